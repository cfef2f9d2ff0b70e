"""Database engines and sessions for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite"}


class DatabaseURLError(ValueError):
    """DATABASE_URL names a database AutoStack cannot use."""


def _with_driver(url: str, drivers: dict[str, str]) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise DatabaseURLError(
            f"DATABASE_URL: unsupported database {backend!r}; use postgresql://… or sqlite:///…"
        )
    return parsed.set(drivername=drivers[backend])


def rows_changed(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an INSERT, UPDATE or DELETE run by a session changed: the session answers
    those with a CursorResult, though its `execute` is typed to return a plain Result."""
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


def async_url(url: str) -> URL:
    """The URL with the async driver AutoStack uses for its backend."""
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> URL:
    """The URL with the blocking driver used by migrations."""
    return _with_driver(url, _SYNC_DRIVERS)


def plain_dsn(url: URL) -> str:
    """A PostgreSQL URL without the SQLAlchemy driver name, password included: what asyncpg and
    libpq parse themselves."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (web page) run beside the writer (intake); the busy timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for DATABASE_URL, with SQLite tuned for one writer and many readers."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    dsn = plain_dsn(target)

    async def connect() -> asyncpg.Connection:
        # asyncpg reads libpq's DSN parameters itself (sslmode, sslrootcert, application_name, …);
        # handed over by SQLAlchemy as keyword arguments they would be refused
        return await asyncpg.connect(dsn, timeout=10)

    return create_async_engine(
        target, async_creator=connect, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


# What the layers above hold: a session factory to pass on, and an open unit of work to pass to
# store functions. Neither is used directly outside `store/` (tests/test_store_boundary.py); the
# engine they come from is only made, handed to the intake and disposed of.
Engine: TypeAlias = AsyncEngine
Sessions: TypeAlias = async_sessionmaker[AsyncSession]
Tx: TypeAlias = AsyncSession


def transaction(sessions: Sessions) -> AbstractAsyncContextManager[Tx]:
    """A unit of work for store functions: committed when the block ends, rolled back on error."""
    return sessions.begin()


def reading(sessions: Sessions) -> AbstractAsyncContextManager[Tx]:
    """A session for store reads that changes nothing (closed, never committed, at the end)."""
    return sessions()


@asynccontextmanager
async def rolled_back(engine: AsyncEngine) -> AsyncIterator[Sessions]:
    """Sessions whose units of work all run in one transaction that is rolled back at the end:
    each sees what the ones before it wrote, and nothing stays (a dry run). Use them one at a
    time: they share one connection."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        if engine.dialect.name == "sqlite":
            # pysqlite starts its transaction only at the first write, and a SAVEPOINT outside
            # one is a transaction of its own, which its RELEASE would commit
            await connection.exec_driver_sql("BEGIN")
        try:
            yield async_sessionmaker(
                connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        finally:
            await outer.rollback()
