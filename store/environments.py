"""Environments as events and commands move them: the head they follow, who approved a fork's
commit, and a destroy that needs no job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from store.db import Tx
from store.models import Deployment, Environment, utcnow


async def environment_named(tx: Tx, project_id: int, name: str) -> Environment | None:
    """The project's environment called `name`, if it has one."""
    return await tx.scalar(
        select(Environment).where(Environment.project_id == project_id, Environment.name == name)
    )


async def latest_deployment(tx: Tx, environment_id: int) -> Deployment | None:
    """The newest deployment of the environment, whatever its state."""
    return await tx.scalar(
        select(Deployment).where(Deployment.environment_id == environment_id).order_by(Deployment.id.desc())
    )


async def ever_deployed(tx: Tx, env: Environment) -> bool:
    """Whether any deployment of the environment was ever made."""
    found = await tx.scalar(select(Deployment.id).where(Deployment.environment_id == env.id).limit(1))
    return found is not None


def record_head(env: Environment, sha: str | None, at: datetime | None) -> None:
    """Remember the head an event moved the environment to, and when."""
    if sha is not None:
        env.head_sha = sha
    if at is not None:
        env.head_at = at


def advance_head_time(env: Environment, at: datetime | None) -> None:
    """Move the time of the newest event seen forward to `at`, never back, so that an event
    from before it (a push delayed past its branch's deletion) counts as stale."""
    if at is not None and (env.head_at is None or at > env.head_at):
        env.head_at = at


def follow_pull_request(env: Environment, number: int, branch: str | None, *, untrusted: bool) -> None:
    """Tie a preview to its pull request, its head branch, and whether that head is a fork's."""
    env.pr_number, env.branch, env.untrusted = number, branch, untrusted


def follow_branch(env: Environment, branch: str) -> None:
    """Tie a branch environment to the branch it deploys."""
    env.branch = branch


def approve(env: Environment, sha: str, by: str) -> None:
    """Approve a fork's exact commit for its preview; a later push needs a new approval."""
    env.approved_sha, env.approved_by = sha, by


def mark_destroyed(env: Environment) -> None:
    """Mark destroyed an environment where nothing ever ran, so no destroy job is needed."""
    env.state, env.destroyed_at = "destroyed", utcnow()
