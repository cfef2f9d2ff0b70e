"""A deployment's phases as a timeline (pure): when each began, how long it took (or has taken
so far) and where its bar sits on a common scale, from the stamps the pipeline stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MIN_BAR = 0.5  # percent: a phase of a few milliseconds still shows as a sliver


@dataclass(frozen=True, slots=True)
class Span:
    """One phase on the timeline; times are None for a phase stored without stamps."""

    name: str
    started_at: datetime | None
    offset: float | None  # seconds after the deployment was created
    seconds: float | None
    running: bool
    left: float  # percent of the timeline's width
    width: float


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def timeline(phases: dict[str, Any], created_at: datetime, now: datetime) -> list[Span]:
    """The phases in the order they ran; an unfinished phase runs until `now`."""
    rows = []
    for name, stamps in phases.items():
        started = _stamp(stamps.get("started_at"))
        finished = _stamp(stamps.get("finished_at"))
        if "seconds" in stamps:
            seconds: float | None = float(stamps["seconds"])
        elif started is not None:
            seconds = max((now - started).total_seconds(), 0.0)
        else:
            seconds = None
        rows.append(
            (name, started, seconds, started is not None and finished is None and "seconds" not in stamps)
        )
    timed = [
        (started, seconds) for _, started, seconds, _ in rows if started is not None and seconds is not None
    ]
    begin = min((s for s, _ in timed), default=created_at)
    end = max(((s - begin).total_seconds() + d for s, d in timed), default=0.0)
    spans = []
    for name, started, seconds, running in rows:
        left = width = 0.0
        if started is not None and seconds is not None and end > 0:
            left = round((started - begin).total_seconds() / end * 100, 2)
            width = round(max(seconds / end * 100, MIN_BAR), 2)
            width = min(width, round(100 - left, 2)) if left < 100 else MIN_BAR
        offset = (started - created_at).total_seconds() if started is not None else None
        spans.append(Span(name, started, offset, seconds, running, left, width))
    return spans
