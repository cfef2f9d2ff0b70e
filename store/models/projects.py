"""Installations, the projects they deploy, and each project's environments: their locks and
the live app's state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, JSONType, utcnow


class Installation(Base):
    """A GitHub App installation on an account (user or organisation)."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    account_type: Mapped[str] = mapped_column(String(32), default="User")
    suspended_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Project(Base):
    """One deployable repository (or a local folder deployed from the CLI)."""

    __tablename__ = "projects"
    __table_args__ = (
        Index("ix_projects_installation", "installation_id"),
        UniqueConstraint("github_repo_id", "app", name="uq_projects_repo_app"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    installation_id: Mapped[int | None] = mapped_column(ForeignKey("installations.id"))
    github_repo_id: Mapped[int | None] = mapped_column(BigInteger)
    # which app of the repository's `apps:` this is; "" for a repository that is one app
    app: Mapped[str] = mapped_column(String(32), default="", server_default="")
    full_name: Mapped[str | None] = mapped_column(String(255), index=True)
    default_branch: Mapped[str] = mapped_column(String(255), default="main")
    private: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Environment(Base):
    """A named place a project runs: production, pr-<n> or branch-<slug>."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))  # production | preview | branch
    pr_number: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | destroyed
    current_deployment_id: Mapped[int | None] = mapped_column(BigInteger)
    redeploy_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # a fork's pull request: its code is untrusted, so secret env vars are never given to it
    untrusted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The newest head seen by push / pull_request events and when GitHub says it happened
    # (push: repository.pushed_at; PR: pull_request.updated_at): events older than head_at
    # arrived out of order and must not replace what a newer event deployed.
    head_sha: Mapped[str | None] = mapped_column(String(64))
    head_at: Mapped[datetime | None]
    # Fork PRs deploy only the exact head commit a writer approved with `/deploy`.
    approved_sha: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(255))
    # when `previews.seed` ran for this environment: it runs once, on the first deployment
    seeded_at: Mapped[datetime | None]
    # The durable (project, environment) lock: which deployment holds it and since when.
    locked_by_deployment_id: Mapped[int | None] = mapped_column(BigInteger)
    locked_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None]


class EnvironmentLock(Base):
    """A person's freeze of one environment: while it holds, pushes and PR updates do not deploy.

    Kept apart from `environments` (whose `locked_*` columns are the build lock) and keyed by
    name, so production can be locked before it was ever deployed.
    """

    __tablename__ = "environment_locks"
    __table_args__ = (UniqueConstraint("project_id", "environment"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    environment: Mapped[str] = mapped_column(String(63))
    locked_by: Mapped[str] = mapped_column(String(255))
    locked_reason: Mapped[str | None] = mapped_column(Text)
    # command (`/lock`: only `/unlock` ends it) | rollback (an explicit `/deploy` ends it too)
    cause: Mapped[str] = mapped_column(String(16), default="command")
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppState(Base):
    """A live app's state after go-live (deployer.app_state): crashed, restarting, unhealthy or
    live again, for the deployment it was watched as; one row per environment."""

    __tablename__ = "app_states"

    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    deployment_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    last_lines: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
