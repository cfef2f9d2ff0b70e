"""Charts as inline SVG, drawn on the server so they show without JavaScript (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 360, 150, 24


def _frame(title: str, body: str, labels: Sequence[date]) -> str:
    first = labels[0].strftime("%b %d") if labels else ""
    last = labels[-1].strftime("%b %d") if labels else ""
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 4}" y2="{HEIGHT - PAD}"/>'
        f"{body}"
        f'<text x="{PAD}" y="{HEIGHT - 8}">{first}</text>'
        f'<text x="{WIDTH - 4}" y="{HEIGHT - 8}" text-anchor="end">{last}</text>'
        "</svg>"
    )


def _scale(peak: float) -> float:
    return (HEIGHT - 2 * PAD) / peak if peak > 0 else 0.0


def bars(title: str, series: Sequence[tuple[date, int, int]]) -> str:
    """Stacked bars per day: total in the accent colour, the bad part (failed, 5xx) in red."""
    peak = max((total for _, total, _ in series), default=0)
    unit = _scale(peak)
    step = (WIDTH - PAD - 4) / max(1, len(series))
    parts = [f'<text x="{PAD}" y="12">max {peak}</text>']
    for index, (day, total, bad) in enumerate(series):
        x = PAD + index * step
        height, bad_height = total * unit, bad * unit
        base = HEIGHT - PAD
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - height:.1f}" width="{max(1.0, step - 1):.1f}" '
            f'height="{height:.1f}"><title>{day.isoformat()}: {total} ({bad} bad)</title></rect>'
        )
        if bad:
            parts.append(
                f'<rect class="bad" x="{x:.1f}" y="{base - bad_height:.1f}" '
                f'width="{max(1.0, step - 1):.1f}" height="{bad_height:.1f}"/>'
            )
    return _frame(title, "".join(parts), [day for day, _, _ in series])


def lines(title: str, series: Sequence[tuple[date, float | None, float | None]], unit: str = "s") -> str:
    """Two lines per day (p50 and p90); days without data leave a gap."""
    peak = max((v for _, a, b in series for v in (a, b) if v is not None), default=0.0)
    scale = _scale(peak)
    step = (WIDTH - PAD - 4) / max(1, len(series) - 1)
    parts = [f'<text x="{PAD}" y="12">max {peak:.1f}{unit} · p50 blue, p90 orange</text>']
    for column, css in ((1, "line"), (2, "line2")):
        runs: list[list[str]] = [[]]
        for index, row in enumerate(series):
            value = row[1] if column == 1 else row[2]
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{PAD + index * step:.1f},{HEIGHT - PAD - value * scale:.1f}")
        for points in runs:
            if len(points) > 1:
                parts.append(f'<polyline class="{css}" points="{" ".join(points)}"/>')
            elif points:
                x, y = points[0].split(",")
                parts.append(f'<circle class="{css}" cx="{x}" cy="{y}" r="2"/>')
    return _frame(title, "".join(parts), [row[0] for row in series])
