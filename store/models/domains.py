"""Custom domains attached to a project's environments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.environment_names import PRODUCTION
from store.models.base import Base, BigId, utcnow


class Domain(Base):
    """A custom domain attached to one environment of a project."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    environment: Mapped[str] = mapped_column(String(63), default=PRODUCTION)
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
