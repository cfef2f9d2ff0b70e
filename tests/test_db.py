"""DATABASE_URL as people write it for libpq reaches PostgreSQL through asyncpg."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from store.db import create_engine


async def test_libpq_parameters_in_database_url_are_understood(backend):
    if backend.name != "postgres":
        pytest.skip("a PostgreSQL URL")
    engine = create_engine(f"{backend.database_url}?sslmode=disable&application_name=autostack-test")
    try:
        async with engine.connect() as conn:
            name = await conn.scalar(text("SELECT current_setting('application_name')"))
    finally:
        await engine.dispose()
    assert name == "autostack-test"
