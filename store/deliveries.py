"""Delivery rows: the intake's batch inserts (the hot path) and the worker's recorded outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import Sessions, plain_dsn, rows_changed, transaction
from store.leases import TERMINAL
from store.models import Delivery, utcnow

# a batch insert that takes this long is cancelled on the server, freeing its slot
STATEMENT_TIMEOUT = 30.0

# Errors caused by a row's values rather than by the database being unavailable. asyncpg's
# client-side "invalid input for query argument" and a str that cannot be encoded are
# ValueErrors; sqlite3 raises OverflowError for an int past 64 bits.
_VALUE_ERRORS = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    DataError,
    IntegrityError,
    ValueError,
    OverflowError,
)
_UNAVAILABLE = (SQLAlchemyError, OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class BatchRefused(Exception):
    """The database refused the rows' values (what it said, short, no SQL or data): storing the
    same rows again cannot help."""


class DatabaseUnavailable(Exception):
    """The database could not take the rows now (down, restarting, timed out)."""


def refusal(exc: BaseException) -> str:
    """What the database said about a refused row, short enough for an answer (no SQL or data)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = str(cause).splitlines()[0][:200] if str(cause) else ""
    return f"{type(cause).__name__}: {detail}" if detail else type(cause).__name__


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A verified delivery as the intake saw it, ready to be stored."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    payload: bytes
    received_at: datetime


class BatchInserter(Protocol):
    """Inserts deliveries in one statement; answers the ids that were new."""

    # whether several batches may commit at once (PostgreSQL), or one at a time (SQLite's writer)
    parallel: bool

    async def __call__(self, deliveries: list[NewDelivery]) -> set[str]:
        """Insert the rows (a known id is left alone); BatchRefused or DatabaseUnavailable."""
        ...

    async def close(self) -> None:
        """Close the connections it holds of its own."""
        ...


def batch_inserter(sessions: Sessions) -> BatchInserter:
    """The inserter for the sessions' database: asyncpg's own connections on PostgreSQL, the
    engine on SQLite."""
    engine: AsyncEngine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        return PostgresInserter(plain_dsn(engine.url))
    return SQLiteInserter(engine)


# one statement per batch: the arrays travel in asyncpg's binary format, and ON CONFLICT keeps a
# redelivered id out without aborting the rest of the batch
_PG_INSERT = (
    "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository_id, payload,"
    " received_at, state, attempts, handled)"
    " SELECT *, 'received', 0, '[]'::jsonb FROM unnest($1::varchar[], $2::varchar[], $3::varchar[],"
    " $4::bigint[], $5::bigint[], $6::bytea[], $7::timestamptz[])"
    " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
)


class PostgresInserter:
    """Inserts batches over a few asyncpg connections of its own, outside SQLAlchemy's pool.

    This is the hot path. Measured here per row, batches of 8 to 128: psycopg's pipelined
    executemany costs 60-190 µs of client CPU and its array unnest 260-450 µs; asyncpg's unnest
    26-48 µs, since its protocol and array codecs are compiled. One statement is one implicit
    transaction, committed (synchronous_commit) before it answers.
    """

    parallel = True

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[asyncpg.Connection] = []

    async def __call__(self, deliveries: list[NewDelivery]) -> set[str]:
        try:
            conn = (
                self._idle.pop()
                if self._idle
                else await asyncpg.connect(self._url, timeout=5, command_timeout=STATEMENT_TIMEOUT)
            )
            try:
                rows = await conn.fetch(
                    _PG_INSERT,
                    [d.delivery_id for d in deliveries],
                    [d.event for d in deliveries],
                    [d.action for d in deliveries],
                    [d.installation_id for d in deliveries],
                    [d.repository_id for d in deliveries],
                    [d.payload for d in deliveries],
                    [d.received_at for d in deliveries],
                )
            except _VALUE_ERRORS:
                # the statement failed on its input; the connection itself is fine
                self._idle.append(conn)
                raise
            except BaseException:
                conn.terminate()
                raise
        except _VALUE_ERRORS as exc:
            raise BatchRefused(refusal(exc)) from exc
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc
        self._idle.append(conn)
        return {row[0] for row in rows}

    async def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            await self._idle.pop().close()


class SQLiteInserter:
    """Inserts batches through the engine (SQLite, where there is one writer anyway)."""

    parallel = False

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, deliveries: list[NewDelivery]) -> set[str]:
        statement = (
            sqlite_insert(Delivery)
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(Delivery.delivery_id)
        )
        rows: list[dict[str, object]] = [
            {
                "delivery_id": d.delivery_id,
                "event": d.event,
                "action": d.action,
                "installation_id": d.installation_id,
                "repository_id": d.repository_id,
                "payload": d.payload,
                "received_at": d.received_at,
                "state": "received",
                "attempts": 0,
                "handled": [],
            }
            for d in deliveries
        ]
        try:
            async with self._engine.begin() as conn:
                return set((await conn.execute(statement, rows)).scalars().all())
        except _VALUE_ERRORS as exc:
            raise BatchRefused(refusal(exc)) from exc
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc

    async def close(self) -> None:
        """Nothing of its own to close: the engine belongs to the services."""


async def record_outcome(
    sessions: Sessions,
    delivery_id: str,
    token: str,
    state: str,
    reason: str | None,
    handled: list[str],
    hold: timedelta | None = None,
) -> bool:
    """Write the delivery's outcome if the job `token` still holds its claim (False when it lost
    it); `hold` extends the claim of one left unfinished (a retry waits that long)."""
    values: dict[str, Any] = {"state": state, "handled": handled, "error": reason}
    if state in TERMINAL:
        values.update(finished_at=utcnow(), claim_expires_at=None)
    elif hold is not None:
        values["claim_expires_at"] = utcnow() + hold
    async with transaction(sessions) as tx:
        result = await tx.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, Delivery.claimed_by == token)
            .values(**values)
        )
        return bool(rows_changed(result))


async def fail_unfinished(sessions: Sessions, delivery_id: str, reason: str) -> None:
    """Record a delivery failed with `reason`, unless it already finished."""
    async with transaction(sessions) as tx:
        await tx.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, Delivery.state.not_in(TERMINAL))
            .values(state="failed", error=reason, finished_at=utcnow(), claim_expires_at=None)
        )
