"""Fixtures for the web page tests: a seeded store and a client per role."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web.context import WebState
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from tests.web import harness


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied per test: migrating each time would triple the run time."""
    path = tmp_path_factory.mktemp("template") / "autostack.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
async def sessions(
    migrated_template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A SQLite store at the newest schema (overrides the suite-wide fixture for speed)."""
    shutil.copy(migrated_template, tmp_path / "autostack.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'autostack.db'}")
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def web(sessions, tmp_path: Path) -> WebState:
    return harness.web_state(sessions, tmp_path)


@pytest.fixture
async def seeded(web: WebState) -> harness.Seed:
    return await harness.seed(web.sessions)


@pytest.fixture
async def as_role(web: WebState, seeded: harness.Seed) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """A client signed in as the seeded member with this role (the CSRF token is `test-csrf`)."""
    opened: list[httpx.AsyncClient] = []

    def make(role: str) -> httpx.AsyncClient:
        made = harness.client(web, harness.cookie_for(web.settings, seeded.users[role], seeded.team_id))
        opened.append(made)
        return made

    yield make
    for made in opened:
        await made.aclose()


@pytest.fixture
def seeded_owner_cookie() -> Callable[[WebState], object]:
    """Seed a state's store and return a cookie for its owner (for tests that build their own state)."""

    async def make(state: WebState) -> str:
        seeded = await harness.seed(state.sessions)
        return harness.cookie_for(state.settings, seeded.users["owner"], seeded.team_id)

    return make
