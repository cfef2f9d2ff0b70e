"""Which database errors mean "the database is unavailable right now" rather than "this
statement is wrong": the first kind is retried, the second is final."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

_DRIVER_OUTAGES = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExist, CannotConnectNow, ConnectionFailure…
    asyncpg.OperatorInterventionError,  # AdminShutdown, CrashShutdown: a restart or failover
    asyncpg.InterfaceError,  # the connection closed under a running query
    asyncpg.TooManyConnectionsError,
    ConnectionError,  # refused or reset: the server is not there (yet)
    TimeoutError,
)


def is_database_outage(exc: BaseException) -> bool:
    """True when `exc`, or what it wraps, says the database could not be reached or went away."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, (OperationalError, InterfaceError, DisconnectionError, *_DRIVER_OUTAGES)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False
