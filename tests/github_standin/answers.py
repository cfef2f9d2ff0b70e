"""What a handler gives back: an answer in GitHub's shape, or a refusal GitHub would make."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Refusal(Exception):
    """GitHub would answer 422 with this message."""


@dataclass
class Answer:
    """A handler's answer."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None


def iso(moment: float | None = None) -> str:
    """A timestamp the way GitHub writes it (now unless given)."""
    return datetime.fromtimestamp(moment or time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the stand-in's own `_` bookkeeping keys."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}
