"""`autostack ls`: recent deployments as a table (or --json), the live one in each environment
marked, and a build no longer served shown as `superseded`, not `ready`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.cli import client
from bot.cli.errors import CliError
from bot.cli.stream import checked_names

HEADERS = ("LIVE", "PROJECT", "ENV", "ID", "STATE", "SOURCE", "AGE", "DURATION", "URL")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def span(seconds: float) -> str:
    """A duration as people say it: 850ms, 42s, 3m 05s, 2h 10m, 3d 4h."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d {whole % 86400 // 3600}h"


def shown_state(row: dict[str, Any]) -> str:
    """The state to show: a live build whose app is in trouble shows that (crashed, restarting,
    unhealthy); a ready build is `superseded` once another one is live, `destroyed` once its
    environment is; every other state is the deployment's own."""
    state = str(row.get("state"))
    if state == "ready" and row.get("live") and row.get("app_state") not in (None, "live"):
        return str(row["app_state"])  # the live build's app crashed, restarts or is unhealthy
    if state != "ready" or row.get("live"):
        return state
    return "destroyed" if row.get("environment_state") == "destroyed" else "superseded"


def cells(row: dict[str, Any], now: datetime) -> tuple[str, ...]:
    """One table row: live marker, names, state, commit or trigger, age, duration, URL or reason."""
    created = _when(row.get("created_at")) or now
    finished = _when(row.get("finished_at"))
    duration = span(((finished or now) - created).total_seconds()) + ("" if finished else "…")
    commit = row.get("commit")
    state = shown_state(row)
    return (
        "*" if row.get("live") else "",
        str(row.get("project")),
        str(row.get("environment")),
        str(row.get("id")),
        state,
        commit[:7] if commit else str(row.get("trigger") or ""),
        span(max(0.0, (now - created).total_seconds())) + " ago",
        duration,
        (row.get("url") if state in ("ready", "queued", "building", "deploying") else None)
        or row.get("reason")
        or row.get("app_state_reason")
        or "",
    )


def table(rows: list[dict[str, Any]], now: datetime) -> str:
    """The listing as aligned columns under HEADERS (the last column is not padded)."""
    lines = [HEADERS, *(cells(row, now) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)), line[-1]]
        ).rstrip()
        for line in lines
    )


def ls(args: argparse.Namespace) -> int:
    """`autostack ls [--project P]`."""
    if args.project:
        checked_names(args.project)
    creds = client.credentials(args)
    path = f"{client.V1}/projects/{args.project}/deployments" if args.project else f"{client.V1}/deployments"
    with client.connect(creds) as http:
        try:
            rows = http.json("GET", path)
        except CliError as exc:
            if args.project and "(HTTP 404)" in str(exc):
                raise CliError(f"no project named {args.project!r} in this token's team") from None
            raise
    if args.json:
        client.say(json.dumps([{**row, "shown_state": shown_state(row)} for row in rows], indent=2))
    elif not rows:
        client.say("no deployments yet; `autostack deploy` in an app folder makes one")
    else:
        for line in table(rows, datetime.now(UTC)).splitlines():
            client.say(line)
    return 0
