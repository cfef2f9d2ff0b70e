"""A project's environment variables: stored encrypted, given to the app decrypted.

Scopes: production, preview, branch, all. A variable scoped to the environment's kind wins
over the same key scoped `all`. Untrusted environments (fork pull requests) get no secrets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from deployer.app_env import AppEnv, EnvProvider, env_scope
from store import envvars as stored
from store.activity import Actor
from store.encryption import KeyRing, env_var_context
from store.envvars import SCOPES, Sessions
from store.models import Environment, Project

__all__ = [
    "SCOPES",
    "EnvVarError",
    "check_variable",
    "env_provider",
    "name_problem",
    "project_secrets",
    "set_env_var",
    "set_env_vars",
]
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


def check_variable(key: str, scope: str) -> None:
    """Raise EnvVarError naming the rule when a variable cannot be stored under `key` and `scope`."""
    problem = name_problem(key)
    if problem is not None:
        raise EnvVarError(f"env var name {key[:60]!r} is not allowed: {problem}")
    if scope not in SCOPES:
        raise EnvVarError(f"env var scope {scope!r} is not one of: {', '.join(SCOPES)}")


async def set_env_vars(
    sessions: Sessions,
    keyring: KeyRing,
    project_id: int,
    pairs: Sequence[tuple[str, str]],
    *,
    scope: str = "all",
    secret: bool = False,
    by: Actor | None = None,
) -> None:
    """Create or replace variables of one scope after checking every name: all or none stored."""
    for key, _ in pairs:
        check_variable(key, scope)
    await stored.set_variables(sessions, keyring, project_id, pairs, scope=scope, secret=secret, by=by)


async def set_env_var(
    sessions: Sessions,
    keyring: KeyRing,
    project_id: int,
    key: str,
    value: str,
    *,
    scope: str = "all",
    secret: bool = False,
) -> None:
    """Create or replace one variable (checked; only its ciphertext is stored)."""
    await set_env_vars(sessions, keyring, project_id, [(key, value)], scope=scope, secret=secret)


def env_provider(sessions: Sessions, keyring: KeyRing) -> EnvProvider:
    """An EnvProvider that decrypts the variables applying to an environment."""

    async def env_for(project: Project, environment: Environment) -> AppEnv:
        kind, everywhere = env_scope(environment)
        rows = await stored.variables(sessions, project.id, (kind, everywhere))
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


async def project_secrets(sessions: Sessions, keyring: KeyRing, project_id: int) -> tuple[str, ...]:
    """Every secret value of a project, whatever its scope: what must be masked in its output."""
    rows = await stored.secret_variables(sessions, project_id)
    return tuple(
        keyring.decrypt(r.key_id, r.ciphertext, env_var_context(project_id, r.key, r.scope)) for r in rows
    )
