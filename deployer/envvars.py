"""A project's environment variables: stored encrypted, given to the app decrypted.

Scopes: production, preview, branch, all. A variable scoped to the environment's kind wins
over the same key scoped `all`. Untrusted environments (fork pull requests) get no secrets.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.pipeline import AppEnv, EnvProvider, env_scope
from store.encryption import KeyRing, env_var_context
from store.models import Environment, EnvVar, Project

SCOPES = ("production", "preview", "branch", "all")
_FIRST = re.compile(r"[A-Za-z_]")
_REST = re.compile(r"[A-Za-z0-9_]*")
MAX_NAME = 255


class EnvVarError(ValueError):
    """A variable that cannot be stored: bad name or scope."""


def name_problem(key: str) -> str | None:
    """The rule a variable name breaks, in words for the person who typed it; None if it is fine."""
    if not key:
        return "a name is needed"
    if not _FIRST.fullmatch(key[0]):
        return "names start with a letter or _"
    if not _REST.fullmatch(key):
        return "names use only letters, digits and _"
    if len(key) > MAX_NAME:
        return f"names are at most {MAX_NAME} characters"
    return None


async def set_env_var(
    session: AsyncSession,
    keyring: KeyRing,
    project_id: int,
    key: str,
    value: str,
    *,
    scope: str = "all",
    secret: bool = False,
) -> EnvVar:
    """Create or replace one variable; only its ciphertext is stored."""
    problem = name_problem(key)
    if problem is not None:
        raise EnvVarError(f"env var name {key[:60]!r} is not allowed: {problem}")
    if scope not in SCOPES:
        raise EnvVarError(f"env var scope {scope!r} is not one of: {', '.join(SCOPES)}")
    row = await session.scalar(
        select(EnvVar).where(EnvVar.project_id == project_id, EnvVar.key == key, EnvVar.scope == scope)
    )
    key_id, blob = keyring.encrypt(value, env_var_context(project_id, key, scope))
    if row is None:
        row = EnvVar(
            project_id=project_id, key=key, scope=scope, ciphertext=blob, key_id=key_id, secret=secret
        )
        session.add(row)
    else:
        row.ciphertext, row.key_id, row.secret = blob, key_id, secret
    await session.flush()
    return row


def env_provider(sessions: async_sessionmaker[AsyncSession], keyring: KeyRing) -> EnvProvider:
    """An EnvProvider that decrypts the variables applying to an environment."""

    async def env_for(project: Project, environment: Environment) -> AppEnv:
        kind, everywhere = env_scope(environment)
        async with sessions() as session:
            rows = (
                await session.scalars(
                    select(EnvVar).where(
                        EnvVar.project_id == project.id, EnvVar.scope.in_((kind, everywhere))
                    )
                )
            ).all()
        values: dict[str, str] = {}
        secrets: list[str] = []
        secret_keys: set[str] = set()
        # `all` first, so a variable scoped to this kind of environment overrides it
        for row in sorted(rows, key=lambda r: r.scope != everywhere):
            if row.secret and environment.untrusted:
                values.pop(row.key, None)
                continue
            value = keyring.decrypt(
                row.key_id, row.ciphertext, env_var_context(project.id, row.key, row.scope)
            )
            values[row.key] = value
            if row.secret:
                secrets.append(value)
                secret_keys.add(row.key)
            else:
                secret_keys.discard(row.key)
        return AppEnv(values=values, secrets=tuple(secrets), secret_keys=tuple(sorted(secret_keys)))

    return env_for


async def project_secrets(
    sessions: async_sessionmaker[AsyncSession], keyring: KeyRing, project_id: int
) -> tuple[str, ...]:
    """Every secret value of a project, whatever its scope: what must be masked in its output."""
    async with sessions() as session:
        rows = (
            await session.scalars(select(EnvVar).where(EnvVar.project_id == project_id, EnvVar.secret))
        ).all()
    return tuple(
        keyring.decrypt(r.key_id, r.ciphertext, env_var_context(project_id, r.key, r.scope)) for r in rows
    )
