"""Deployments that wait for CI (`deploy.after: checks`): the verdict on their required checks.

A gated deployment builds at once; after the build it waits (`waiting`) until its verdict
is `passed`, or stays `blocked` while a required check has failed. Handlers record verdicts
from GitHub's check data; the deployer parks and releases. `Deployment.checks` holds
`{"required": [...], "verdict": ..., "detail": ...}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import locks
from store.leases import LEASE, process_owner
from store.models import Deployment, Environment, Project, utcnow

Sessions = async_sessionmaker[AsyncSession]
WAITING = "waiting"
BLOCKED = "blocked"
HELD = (WAITING, BLOCKED)
Verdict = Literal["pending", "passed", "failed"]
PENDING: Verdict = "pending"
PASSED: Verdict = "passed"
FAILED: Verdict = "failed"
# states in which a new verdict still changes what happens to the deployment
_UNDECIDED = ("queued", "building", WAITING, BLOCKED)
Action = Literal["release", "report"]
RELEASE: Action = "release"
REPORT: Action = "report"


def new_gate(required: Iterable[str]) -> dict[str, Any]:
    """The `checks` value of a deployment that waits for `required` (none yet reported)."""
    names = sorted(set(required))
    return {"required": names, "verdict": PENDING, "detail": waiting_for(names)}


def waiting_for(names: Iterable[str]) -> str:
    """`waits for CI / test, lint to pass`: what a waiting deployment shows."""
    listed = ", ".join(names)
    return f"waits for {listed} to pass" if listed else "waits for the required checks to pass"


@dataclass(frozen=True, slots=True)
class Gated:
    """A deployment still waiting on checks: its id and the checks it needs."""

    deployment_id: int
    required: tuple[str, ...]


async def _locked(session: AsyncSession, deployment_id: int) -> Deployment | None:
    # on PostgreSQL the row is locked, so a verdict and the pipeline's park never interleave
    return await session.scalar(select(Deployment).where(Deployment.id == deployment_id).with_for_update())


async def gated_deployments(sessions: Sessions, project_id: int, commit_sha: str) -> list[Gated]:
    """The project's deployments of `commit_sha` whose fate still hangs on their checks."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(Deployment).where(
                    Deployment.project_id == project_id,
                    Deployment.commit_sha == commit_sha,
                    Deployment.state.in_(_UNDECIDED),
                )
            )
        ).all()
    return [Gated(row.id, tuple(row.checks["required"])) for row in rows if row.checks is not None]


async def record_verdict(
    sessions: Sessions, deployment_id: int, verdict: Verdict, detail: str | None
) -> Action | None:
    """Store the verdict; `release` when a parked deployment may now go live, `report` when a
    parked one changed between waiting and blocked, None when nothing is to be done now."""
    async with sessions.begin() as session:
        row = await _locked(session, deployment_id)
        if row is None or row.checks is None or row.state not in _UNDECIDED:
            return None
        row.checks = {**row.checks, "verdict": verdict, "detail": detail}
        if row.state not in HELD:
            return None  # still building: the pipeline reads the verdict after the build
        if verdict == PASSED:
            return RELEASE
        state = BLOCKED if verdict == FAILED else WAITING
        if (row.state, row.reason) == (state, detail):
            return None
        row.state, row.reason = state, detail
        return REPORT


async def park_after_build(sessions: Sessions, deployment_id: int) -> tuple[str, str] | None:
    """After its build: park a gated deployment whose checks have not passed, as `waiting` or
    `blocked` with why, freeing its environment; None when it goes on to release."""
    async with sessions.begin() as session:
        row = await _locked(session, deployment_id)
        if row is None or row.checks is None or row.checks.get("verdict") == PASSED:
            return None
        if row.state != "building":  # superseded or cancelled meanwhile: the pipeline stops itself
            return None
        state = BLOCKED if row.checks.get("verdict") == FAILED else WAITING
        detail = str(row.checks.get("detail") or waiting_for(row.checks.get("required") or ()))
        row.state, row.reason, row.lease_expires_at = state, detail, None
        environment = await session.get(Environment, row.environment_id)
        if environment is not None and environment.locked_by_deployment_id == deployment_id:
            environment.locked_by_deployment_id, environment.locked_at = None, None
        return state, detail


async def passed_but_parked(sessions: Sessions, limit: int = 500) -> list[int]:
    """Parked deployments whose checks passed: their release job is queued, running, or lost."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(Deployment).where(Deployment.state.in_(HELD)).order_by(Deployment.id).limit(limit)
            )
        ).all()
    return [row.id for row in rows if (row.checks or {}).get("verdict") == PASSED]


@dataclass(frozen=True, slots=True)
class Released:
    """A parked deployment now being released, with its project and environment."""

    deployment: Deployment
    project: Project
    environment: Environment


async def claim_release(
    sessions: Sessions, deployment_id: int, in_progress: tuple[str, ...]
) -> Released | None:
    """Take a parked deployment whose checks passed into `deploying`; None when it is not
    parked, its checks have not passed, a newer deployment of its environment is under way
    (then it is superseded), or its environment was locked meanwhile (then it is cancelled)."""
    now = utcnow()
    async with sessions.begin() as session:
        row = await _locked(session, deployment_id)
        if row is None or row.state not in HELD or (row.checks or {}).get("verdict") != PASSED:
            return None
        newer = await session.scalar(
            select(Deployment.id)
            .where(
                Deployment.environment_id == row.environment_id,
                Deployment.id > deployment_id,
                Deployment.state.in_(in_progress),
            )
            .order_by(Deployment.id.desc())
            .limit(1)
        )
        if newer is not None:
            row.state, row.reason, row.finished_at = "superseded", f"superseded by deployment {newer}", now
            return None
        lock = await locks.lock_of(session, row.project_id, row.environment)
        if lock is not None:  # an automatic deploy, like the push that made it: the lock holds it
            row.state, row.reason, row.finished_at = "cancelled", locks.describe(lock), now
            return None
        project = await session.get(Project, row.project_id)
        environment = await session.get(Environment, row.environment_id)
        assert project is not None and environment is not None
        row.state, row.reason = "deploying", None
        row.claimed_by, row.lease_expires_at = process_owner(), now + LEASE
        environment.locked_by_deployment_id, environment.locked_at = deployment_id, now
        environment.last_activity_at = now
        return Released(row, project, environment)
