"""What every model shares: the declarative base, its column types, and the UTC clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
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
