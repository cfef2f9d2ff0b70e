"""Environment locks: who froze which environment and why (one row per project and name)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rows_changed
from store.environment_names import PRODUCTION
from store.models import EnvironmentLock, utcnow

COMMAND = "command"
ROLLBACK = "rollback"


def describe(lock: EnvironmentLock, app: str = "") -> str:
    """`production is locked by @ana: incident 42; comment /unlock to resume` (Markdown); with
    the app of a monorepo, `api/production is locked …; comment /unlock api to resume`."""
    why = f": {lock.locked_reason}" if lock.locked_reason else ""
    words = [app] if app else []
    if lock.environment != PRODUCTION:
        words.append(lock.environment)
    unlock = " ".join(["/unlock", *words])
    where = f"{app}/{lock.environment}" if app else lock.environment
    return f"{where} is locked by @{lock.locked_by}{why}; comment `{unlock}` to resume"


async def lock_of(session: AsyncSession, project_id: int, environment: str) -> EnvironmentLock | None:
    """The lock on the project's environment, if there is one."""
    return await session.scalar(
        select(EnvironmentLock).where(
            EnvironmentLock.project_id == project_id, EnvironmentLock.environment == environment
        )
    )


async def locks_of(
    session: AsyncSession, project_id: int, environments: Iterable[str] | None = None
) -> list[EnvironmentLock]:
    """The project's locks (of `environments` only, when given), by environment name."""
    query = select(EnvironmentLock).where(EnvironmentLock.project_id == project_id)
    if environments is not None:
        query = query.where(EnvironmentLock.environment.in_(list(environments)))
    return list((await session.scalars(query.order_by(EnvironmentLock.environment))).all())


async def lock(
    session: AsyncSession,
    project_id: int,
    environment: str,
    by: str,
    reason: str | None,
    *,
    cause: str = COMMAND,
) -> EnvironmentLock:
    """Lock the environment, or re-lock it under the new owner and reason if already locked."""
    row = await lock_of(session, project_id, environment)
    if row is None:
        row = EnvironmentLock(project_id=project_id, environment=environment)
        session.add(row)
    row.locked_by, row.locked_reason, row.cause, row.locked_at = by, reason, cause, utcnow()
    await session.flush()
    return row


async def unlock(session: AsyncSession, project_id: int, environment: str) -> bool:
    """Remove the environment's lock; False when it was not locked."""
    result = await session.execute(
        delete(EnvironmentLock).where(
            EnvironmentLock.project_id == project_id, EnvironmentLock.environment == environment
        )
    )
    return bool(rows_changed(result))


async def lock_unless_locked(
    session: AsyncSession, project_id: int, environment: str, by: str, reason: str | None, *, cause: str
) -> EnvironmentLock:
    """The environment's lock: the one already there, left as it is (someone's `/lock` keeps
    its owner and reason), else a new one for `cause`."""
    row = await lock_of(session, project_id, environment)
    return row if row is not None else await lock(session, project_id, environment, by, reason, cause=cause)


async def release_rollback_lock(session: AsyncSession, project_id: int, environment: str) -> bool:
    """Remove the lock a rollback set, once someone deploys on purpose; a `/lock` stays.
    True when one was removed."""
    row = await lock_of(session, project_id, environment)
    if row is None or row.cause != ROLLBACK:
        return False
    return await unlock(session, project_id, environment)
