"""Deployments, their log lines (and where retention archived them), and the pull request
comment that reports them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, JSONType, PhasesInRunOrder, utcnow


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


class StickyComment(Base):
    """The id of a pull request's one AutoStack comment, whose row lock lets only one process
    (of several replicas) post it."""

    __tablename__ = "sticky_comments"

    repo: Mapped[str] = mapped_column(String(255), primary_key=True)
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
