"""A project's environment variables as stored: encrypted rows per key and scope, and the
environments a change leaves waiting for a redeploy. Names and scopes are checked above
(deployer.envvars) before anything is written here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.activity import Actor, record_change
from store.db import Tx
from store.encryption import KeyRing, env_var_context
from store.models import Environment, EnvVar

SCOPES = ("production", "preview", "branch", "all")
Sessions = async_sessionmaker[AsyncSession]


class VariableMissing(LookupError):
    """No variable of that key (in that scope); the message names it."""


class ScopeNeeded(LookupError):
    """The key is set in several scopes and the caller named none; the message lists them."""


def affected_kinds(scope: str) -> tuple[str, ...]:
    """The kinds of environment a variable of `scope` applies to."""
    return ("production", "preview", "branch") if scope == "all" else (scope,)


async def _put(
    session: AsyncSession, keyring: KeyRing, project_id: int, key: str, value: str, scope: str, secret: bool
) -> None:
    row = await session.scalar(
        select(EnvVar).where(EnvVar.project_id == project_id, EnvVar.key == key, EnvVar.scope == scope)
    )
    key_id, blob = keyring.encrypt(value, env_var_context(project_id, key, scope))
    if row is None:
        session.add(
            EnvVar(project_id=project_id, key=key, scope=scope, ciphertext=blob, key_id=key_id, secret=secret)
        )
    else:
        row.ciphertext, row.key_id, row.secret = blob, key_id, secret


async def _mark_stale(session: AsyncSession, project_id: int, scope: str) -> None:
    # only environments running a deployment can be behind their variables
    await session.execute(
        update(Environment)
        .where(
            Environment.project_id == project_id,
            Environment.kind.in_(affected_kinds(scope)),
            Environment.state == "active",
            Environment.current_deployment_id.is_not(None),
        )
        .values(redeploy_needed=True)
    )


async def set_variables(
    sessions: Sessions,
    keyring: KeyRing,
    project_id: int,
    pairs: Iterable[tuple[str, str]],
    *,
    scope: str = "all",
    secret: bool = False,
    by: Actor | None = None,
) -> None:
    """Create or replace variables of one scope, all or none (only ciphertext is stored); the
    environments they apply to are marked for a redeploy, and `by`'s change is logged."""
    pairs = list(pairs)
    async with sessions.begin() as session:
        for key, value in pairs:
            await _put(session, keyring, project_id, key, value, scope, secret)
        await session.flush()
        await _mark_stale(session, project_id, scope)
        if by is not None:
            keys = ", ".join(key for key, _ in pairs)
            await record_change(session, by, "env.set", keys, project_id, scope=scope, secret=secret)


async def delete_variable(
    sessions: Sessions, project_id: int, key: str, scope: str | None, *, by: Actor | None = None
) -> str:
    """Remove one variable (without `scope`, the key's only one); returns the scope it had."""
    async with sessions.begin() as session:
        query = select(EnvVar).where(EnvVar.project_id == project_id, EnvVar.key == key)
        rows = (await session.scalars(query if scope is None else query.where(EnvVar.scope == scope))).all()
        if not rows:
            raise VariableMissing(f"no variable {key}" + (f" in scope {scope}" if scope else ""))
        if len(rows) > 1:
            scopes = ", ".join(sorted(row.scope for row in rows))
            raise ScopeNeeded(f"{key} is set in scopes {scopes}; say which scope to delete")
        scope = rows[0].scope
        await session.delete(rows[0])
        await _mark_stale(session, project_id, scope)
        if by is not None:
            await record_change(session, by, "env.delete", key, project_id, scope=scope)
        return scope


async def variables(sessions: Sessions, project_id: int, scopes: Sequence[str] = SCOPES) -> Sequence[EnvVar]:
    """The project's variables in `scopes` (every scope by default), by key."""
    async with sessions() as session:
        rows = await session.scalars(
            select(EnvVar)
            .where(EnvVar.project_id == project_id, EnvVar.scope.in_(scopes))
            .order_by(EnvVar.key, EnvVar.scope)
        )
        return rows.all()


async def secret_variables(sessions: Sessions, project_id: int) -> Sequence[EnvVar]:
    """The project's secret variables, whatever their scope."""
    async with sessions() as session:
        return (
            await session.scalars(select(EnvVar).where(EnvVar.project_id == project_id, EnvVar.secret))
        ).all()


async def stale_environments(sessions: Sessions, project_id: int) -> Sequence[Environment]:
    """The project's live environments whose variables changed since their deployment."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Environment).where(
                Environment.project_id == project_id,
                Environment.redeploy_needed,
                Environment.state == "active",
            )
        )
        return rows.all()


async def clear_redeploy_needed(tx: Tx, environment_id: int) -> None:
    """The environment was rebuilt with its current variables: it is no longer behind them."""
    changed = await tx.get(Environment, environment_id)
    if changed is not None:
        changed.redeploy_needed = False
