"""SQLAlchemy models: everything AutoStack remembers, one table per noun."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite and PostgreSQL both hold 64-bit ints; SQLite only autoincrements "INTEGER".
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class PhasesInRunOrder(TypeDecorator[dict[str, Any]]):
    """A deployment's phases, read back in the order they ran (by `started_at`): PostgreSQL's
    JSONB keeps an object's keys shortest first, so "build" came back before "install"."""

    impl = JSONType
    cache_ok = True

    def process_result_value(self, value: dict[str, Any] | None, dialect: Any) -> dict[str, Any] | None:
        if not value:
            return value
        return dict(sorted(value.items(), key=lambda item: str(item[1].get("started_at", ""))))


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


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


class Delivery(Base):
    """A webhook delivery exactly as GitHub sent it, and how far its processing got."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_received", "state", "received_at"),)

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # received → queued → processing → done | failed | ignored
    state: Mapped[str] = mapped_column(String(16), default="received")
    enqueued_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # names of the handlers that finished, so a retry runs only the ones that did not
    handled: Mapped[list[str]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    # The job running it now and until when that claim holds unless renewed (store/leases.py):
    # a second job for the delivery leaves it alone while the claim is live.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claim_expires_at: Mapped[datetime | None]


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


class Deployment(Base):
    """One immutable attempt to put a commit into an environment (docs/product.md §2)."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index("ix_deployments_env_created", "environment_id", "created_at"),
        Index("ix_deployments_project_created", "project_id", "created_at"),
        Index("ix_deployments_project_sha", "project_id", "commit_sha"),
        Index("ix_deployments_project_id_desc", "project_id", "id"),
        Index("ix_deployments_env_id_desc", "environment_id", "id"),
        Index("ix_deployments_state", "state"),
        # A redelivered (or retried) event finds its deployment instead of making a second one.
        Index("ux_deployments_delivery_env", "delivery_id", "environment_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    environment: Mapped[str] = mapped_column(String(63))
    # queued → building → [waiting ⇄ blocked →] deploying → ready | failed | cancelled | superseded
    state: Mapped[str] = mapped_column(String(16), default="queued")
    trigger: Mapped[str] = mapped_column(String(32))  # push | pull_request | command | cli | ...
    actor: Mapped[str | None] = mapped_column(String(255))
    delivery_id: Mapped[str | None] = mapped_column(String(64), index=True)
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    commit_message: Mapped[str | None] = mapped_column(Text)
    commit_time: Mapped[datetime | None]
    ref: Mapped[str | None] = mapped_column(String(255))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    source_deployment_id: Mapped[int | None] = mapped_column(BigInteger)
    # Where the files come from when no GitHub download applies: "upload:<tarball path>" or
    # "dir:<folder>" (CLI deploys); None for GitHub commits, fetched by the bot.
    source: Mapped[str | None] = mapped_column(String(1024))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    framework: Mapped[str | None] = mapped_column(String(64))
    framework_reason: Mapped[str | None] = mapped_column(Text)
    artifact: Mapped[str | None] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(512))
    reason: Mapped[str | None] = mapped_column(Text)
    cache_hit: Mapped[bool | None] = mapped_column(Boolean)
    build_seconds: Mapped[float | None]
    phases: Mapped[dict[str, Any]] = mapped_column(PhasesInRunOrder, default=dict)
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    github_deployment_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The process building or deploying it and until when, renewed while it runs: a replica
    # fails an in-progress deployment only once this lease has expired.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    # `deploy.after: checks`: the required checks and the latest verdict on them
    # (store/check_gates.py); None when the deployment goes live without waiting
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class DeploymentLog(Base):
    """A line of a deployment's log, in order, secrets already masked."""

    __tablename__ = "deployment_logs"
    __table_args__ = (Index("ix_deployment_logs_seq", "deployment_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    stream: Mapped[str] = mapped_column(String(16), default="build")
    line: Mapped[str] = mapped_column(Text)


class EnvVar(Base):
    """A project's environment variable; only ciphertext is stored."""

    __tablename__ = "env_vars"
    __table_args__ = (UniqueConstraint("project_id", "key", "scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(16))  # production | preview | branch | all
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Domain(Base):
    """A custom domain attached to one environment of a project."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    environment: Mapped[str] = mapped_column(String(63), default="production")
    hostname: Mapped[str] = mapped_column(String(253), unique=True)
    verification: Mapped[str] = mapped_column(String(8), default="txt")  # txt | cname
    token: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    cert_state: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None]
    # the last DNS check and what it found missing, shown on the page so the owner can fix it
    checked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    """The people of one installation account."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    installation_id: Mapped[int | None] = mapped_column(ForeignKey("installations.id"), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A GitHub user's role in a team: owner, admin, developer or viewer."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "github_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    github_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    github_login: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """A single-use, expiring invitation into a team."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    created_by: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A hashed API token for the CLI and scripts, scoped to a team (or the local admin)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="admin")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who changed what, when and from where."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_team_created", "team_id", "created_at"),
        Index("ix_audit_team_id", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestHit(Base):
    """One request the local router answered: the traffic analytics read these."""

    __tablename__ = "request_hits"
    __table_args__ = (Index("ix_request_hits_project_ts", "project_id", "ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    host: Mapped[str] = mapped_column(String(253))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    environment: Mapped[str | None] = mapped_column(String(63))
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float]
    country: Mapped[str | None] = mapped_column(String(2))


class StoredSecret(Base):
    """A credential AutoStack was given at run time (the App registered by the setup page),
    encrypted like env vars."""

    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HookRedelivery(Base):
    """A failed webhook delivery AutoStack asked GitHub to send again: at most once per guid."""

    __tablename__ = "hook_redeliveries"

    # GitHub's X-GitHub-Delivery, which every attempt (and the redelivery) of an event shares
    guid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the failed attempt's id in GitHub's delivery log: the one asked to be sent again
    attempt_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    status_code: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime]
    # claimed → requested (GitHub answered 202) | refused (GitHub said no; not asked again)
    state: Mapped[str] = mapped_column(String(16), default="claimed")
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class HookReconciler(Base):
    """The delivery reconciler's one row: its lease, how far back it has read, its run counts."""

    __tablename__ = "hook_reconciler"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # the newest delivery a finished run had read: the next run reads back to here, not 3 days
    reconciled_to: Mapped[datetime | None]
    # runs by outcome (done, deferred, no_app) and redeliveries by state, for /metrics
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StickyComment(Base):
    """The id of a pull request's one AutoStack comment, whose row lock lets only one process
    (of several replicas) post it."""

    __tablename__ = "sticky_comments"

    repo: Mapped[str] = mapped_column(String(255), primary_key=True)
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LogArchive(Base):
    """Where retention moved a deployment's log once its lines left deployment_logs."""

    __tablename__ = "log_archives"

    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id"), primary_key=True, autoincrement=False
    )
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024))
    lines: Mapped[int] = mapped_column(Integer)
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)


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
