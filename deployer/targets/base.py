"""The contract every target implements, so the pipeline does not care where apps run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from deployer.plan import Plan

LogFn = Callable[[str], Awaitable[None]]
PhaseFn = Callable[[str], Awaitable[None]]
# (project, environment) → the environment's verified custom domains (deployer.domains reads them)
DomainSource = Callable[[str, str], Awaitable[tuple[str, ...]]]


async def no_domains(_project: str, _environment: str) -> tuple[str, ...]:
    """The domain source when none is configured: no custom domains."""
    return ()


class TargetError(RuntimeError):
    """A permanent failure on the target (failed build, unhealthy app); the message says why."""


class KnownCause(TargetError):
    """A TargetError that names the cause itself: the failure summary quotes it, not the log."""


@dataclass(frozen=True, slots=True)
class Site:
    """Which environment of which project a release serves."""

    project: str
    environment: str
    deployment_id: int
    # a fork's pull request: its build must not be able to write what trusted builds read
    untrusted: bool = False


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """What a build may read: plain variables, and secrets (name → value) that must never end
    up in what the build produces (a layer, a build argument, the artifact)."""

    plain: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Artifact:
    """What a build produced: enough to release it again without rebuilding."""

    ref: str  # a local build folder, or an image digest on kubernetes
    cache_hit: bool = False
    facts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CertificateState:
    """A custom domain's TLS certificate as the target sees it: `state` is one of issued,
    pending, failed, none, unavailable (cert-manager missing or unreadable) or http (no TLS)."""

    state: str
    detail: str = ""
    not_after: datetime | None = None


class Release(Protocol):
    """A started, not yet routed, instance of an artifact."""

    @property
    def address(self) -> str:
        """Where the release answers, e.g. http://127.0.0.1:41234."""
        ...

    async def stop(self) -> None:
        """Stop the instance (a release that never got traffic, or a drained old one)."""
        ...


class Target(Protocol):
    """Build, release, check, switch and destroy deployments on one kind of infrastructure."""

    async def build(
        self, site: Site, source: Path, plan: Plan, log: LogFn, phase: PhaseFn, env: BuildEnv | None = None
    ) -> Artifact:
        """Install, then build `source` per `plan` (calling `phase` as each begins) with `env`."""
        ...

    async def release(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
    ) -> Release:
        """Start the artifact with its environment, without sending it traffic yet; `secrets`
        (values of `env`) are masked in whatever of its output the target forwards."""
        ...

    async def run_once(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        command: str,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
        what: str = "release",
    ) -> None:
        """Run `command` once with the artifact and its environment (`what`: release or seed),
        streaming its output; raise TargetError naming its first error line when it fails."""
        ...

    async def health(self, release: Release, plan: Plan, log: LogFn) -> None:
        """Wait until the release answers its health check; raise TargetError on timeout."""
        ...

    async def switch(self, site: Site, release: Release) -> str:
        """Route the environment's traffic to `release`, drain the old one; return the URL."""
        ...

    async def destroy(self, project: str, environment: str) -> None:
        """Stop the environment's app and free its resources."""
        ...

    def url_for(self, project: str, environment: str) -> str:
        """The public URL of an environment."""
        ...

    async def certificates(
        self, project: str, environment: str, hostnames: Sequence[str]
    ) -> dict[str, CertificateState]:
        """The certificate state of each of the environment's custom `hostnames`."""
        ...

    async def refresh_domains(self, project: str, environment: str) -> None:
        """Route the environment's verified custom domains now (after one is verified or removed)."""
        ...
