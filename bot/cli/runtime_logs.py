"""`autostack logs ENV --runtime [--follow]`: what an environment's live app prints, and its state."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cli import client
from bot.cli.errors import UNREACHABLE, USAGE, CliError
from bot.cli.stream import checked_names, project_name


def heading(event: dict[str, Any]) -> str:
    """`app/production · live (deployment 12)`, or the trouble with its start and last lines."""
    where = f"{event.get('project')}/{event.get('environment')}"
    state = event.get("state")
    built = f" (deployment {event['deployment']})" if event.get("deployment") else ""
    text = f"{where} · {state}{built}"
    if state not in ("live", "destroyed") and event.get("since"):
        text += (
            f" since {str(event['since'])[:19].replace('T', ' ')} UTC: {event.get('reason') or ''}".rstrip()
        )
        text += "".join(f"\n   | {line}" for line in event.get("last_lines") or [])
    return text


def line(event: dict[str, Any]) -> str:
    """One log line: its time, and AutoStack's own notes marked with ──."""
    at = str(event.get("at", ""))[11:19]
    mark = "── " if event.get("source") == "autostack" else ""
    return f"{at} {mark}{event.get('text', '')}"


def runtime_logs(args: argparse.Namespace) -> int:
    """Print the environment's runtime log; with --follow until interrupted."""
    project = args.project or project_name(Path("."))
    checked_names(project, args.deployment)
    if args.tail < 0:
        raise CliError(f"--tail {args.tail} is negative; give how many earlier lines to print", USAGE)
    query = {"follow": "1" if args.follow else "0", "tail": str(args.tail)}
    if args.since:
        query["since"] = args.since
    if args.previous:
        query["previous"] = "1"
    creds = client.credentials(args)
    url = f"{client.V1}/projects/{project}/environments/{args.deployment}/logs"
    ended = False
    with client.connect(creds) as http:
        response = http.request("GET", url, stream=True, query=query)
        if response.status >= 400:
            raise client.refusal(response.status, response.read(), creds)
        for event in client.events(response):
            kind = event.get("type")
            if kind == "end":
                ended = True
            if args.json:
                client.say(json.dumps(event))
            elif kind == "environment":
                client.say(heading(event))
            elif kind == "log":
                client.say(line(event))
    if not ended:
        raise CliError(
            f"lost the connection to AutoStack at {creds.url} (the log stream ended early)", UNREACHABLE
        )
    return 0
