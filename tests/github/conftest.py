"""Fixtures for the GitHub feedback tests: the stand-in, and a SQLite store with one project."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import create_engine, sessionmaker
from store.models import Base
from tests.github_standin.fixtures import (  # noqa: F401 (fixtures)
    github_app,
    github_app_keys,
    github_sleeps,
    github_standin,
    github_standin_server,
)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite store."""
    url = f"sqlite:///{tmp_path / 'autostack.db'}"
    # The lead switches this to store.migrate.upgrade once migrations match the models.
    sync = create_sync_engine(url)
    Base.metadata.create_all(sync)
    sync.dispose()
    engine = create_engine(url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()
