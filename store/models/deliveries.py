"""Webhook deliveries as GitHub sent them, and the reconciler that asks GitHub to send failed
ones again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, utcnow


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
