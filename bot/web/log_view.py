"""A deployment's log as the page shows it: lines grouped under the phase they were printed
in, with each phase's duration; and as plain text for download (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.archive.logs import LogEntry


@dataclass
class PhaseGroup:
    """One phase's part of the log."""

    name: str
    seconds: float | None
    lines: list[LogEntry] = field(default_factory=list)


def group_lines(phases: dict[str, Any], lines: Sequence[LogEntry]) -> list[PhaseGroup]:
    """The lines under their phases (by each phase's `after_line`); lines before any phase
    (or of deployments stored before phases knew their first line) go in a group named ""."""
    starts = sorted(
        ((int(v["after_line"]), name, v.get("seconds")) for name, v in phases.items() if "after_line" in v),
        key=lambda item: item[0],
    )
    groups = [PhaseGroup("", None)]
    groups.extend(PhaseGroup(name, seconds) for _, name, seconds in starts)
    index = 0
    for line in lines:
        while index < len(starts) and starts[index][0] < line.seq:
            index += 1
        groups[index].lines.append(line)
    return [g for g in groups if g.name or g.lines]


def render_text(phases: dict[str, Any], lines: Sequence[LogEntry]) -> str:
    """The log as text: a `── phase (seconds)` header before each phase's lines, each line
    with its UTC time. The lines are stored masked, so nothing here needs masking again."""
    out: list[str] = []
    for group in group_lines(phases, lines):
        if group.name:
            took = f" ({group.seconds:.1f} s)" if group.seconds is not None else ""
            out.append(f"── {group.name}{took}")
        out.extend(f"{line.ts:%H:%M:%S.%f}"[:-3] + f"  {line.line}" for line in group.lines)
    return "\n".join(out) + "\n"
