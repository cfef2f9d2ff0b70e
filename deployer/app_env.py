"""What a deployment's app runs with from the project: its stored environment variables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from store.models import Environment, Project


@dataclass(frozen=True, slots=True)
class AppEnv:
    """A project's environment variables for one environment, and which values are secret."""

    values: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()  # the names in `values` whose values are secret


EnvProvider = Callable[[Project, Environment], Awaitable[AppEnv]]


async def no_env(_project: Project, _environment: Environment) -> AppEnv:
    """The env provider when none is configured: no project variables."""
    return AppEnv()


def env_scope(environment: Environment) -> tuple[str, str]:
    """The EnvVar scopes that apply: ("production"|"preview"|"branch", "all")."""
    return (environment.kind if environment.kind in ("production", "preview", "branch") else "preview", "all")
