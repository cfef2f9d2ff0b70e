"""The requests the local router answered, for the traffic analytics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, utcnow


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
