"""`autostack deploy | logs | rollback`: verbs that stream a deployment's progress (NDJSON)."""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from bot.cli import client
from bot.cli.config import Credentials
from bot.cli.errors import UNREACHABLE, USAGE, CliError
from bot.deploy_names import name_problem

_SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", ".autostack", ".next", "dist"}
TERMINAL = ("ready", "failed", "cancelled", "superseded")


def checked_names(project: str, environment: str | None = None) -> None:
    """CliError (usage) for names the API would refuse: they go into the URL's path, where a
    slash or dot-dot would reach another route."""
    if problem := name_problem(project, environment):
        raise CliError(problem, USAGE)


def project_name(folder: Path) -> str:
    """A DNS-safe project name from a folder name."""
    cleaned = "".join(c if c.isalnum() else "-" for c in folder.resolve().name.lower()).strip("-")
    return cleaned[:63] or "app"


def pack(folder: Path, dest: Path) -> None:
    """A gzipped tarball of `folder` without VCS, dependency and build folders."""

    def skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if _SKIP & set(Path(info.name).parts) else info

    with tarfile.open(dest, "w:gz") as tar:
        for child in sorted(folder.iterdir()):
            tar.add(child, arcname=child.name, filter=skip)


class _Printer:
    """Shows progress events; the `deployment N` heading waits for the first real event, so a
    deployment that does not exist prints just the error."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.heading: str | None = None
        self.finished: dict[str, Any] | None = None

    def show(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "error":
            raise CliError(str(event.get("message", "the server reported an error")))
        if kind == "finished":
            self.finished = event
        if self.as_json:
            client.say(json.dumps(event))
            return
        if kind == "deployment":
            self.heading = f"deployment {event.get('id')}"
            return
        if self.heading:
            client.say(self.heading)
            self.heading = None
        if kind == "phase":
            client.say(f"── {event.get('phase')}")
        elif kind == "log":
            client.say(f"   {event.get('text', '')}")
        elif kind == "finished":
            client.say(finished_summary(event))


def finished_summary(event: dict[str, Any]) -> str:
    """`ready: URL` or `failed: reason (log line N)`, then how long each phase took."""
    state = event.get("state")
    detail = event.get("url") or event.get("reason") or ""
    if state not in TERMINAL:
        return f"{state}: still running; add --follow to keep watching"
    outcome = f"{state}: {detail}".rstrip(": ")
    if event.get("error_line"):
        outcome += f" (log line {event['error_line']})"
    phases = event.get("phases") or {}
    if not phases:
        return outcome
    took = " · ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
    if event.get("build_seconds") is not None:
        took += f" (build time {event['build_seconds']:.1f} s)"
    return f"{outcome}\n   {took}"


def _follow(creds: Credentials, method: str, url: str, as_json: bool, **kwargs: Any) -> str:
    """Stream the deployment's events; the state it ended in."""
    printer = _Printer(as_json)
    with client.connect(creds) as http:
        response = http.request(method, url, stream=True, **kwargs)
        if response.status >= 400:
            raise client.refusal(response.status, response.read(), creds)
        for event in client.events(response):
            printer.show(event)
    if printer.finished is None:
        message = (
            f"lost the connection to AutoStack at {creds.url} (the stream ended before the deployment did)"
        )
        raise CliError(message, UNREACHABLE)
    return str(printer.finished.get("state"))


def deploy(args: argparse.Namespace) -> int:
    """Upload the folder as a tarball and stream its deployment; 0 when it ends ready."""
    project = args.project or project_name(args.path)
    checked_names(project, args.env)
    if not args.path.is_dir():
        raise CliError(f"{args.path} is not a folder", USAGE)
    creds = client.credentials(args)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "source.tar.gz"
        pack(args.path, archive)
        state = _follow(
            creds,
            "POST",
            f"{client.V1}/projects/{project}/environments/{args.env}/deployments",
            args.json,
            content=archive.read_bytes(),
            content_type="application/gzip",
        )
    return 0 if state == "ready" else 1


def logs(args: argparse.Namespace) -> int:
    """Print a deployment's log; with --follow until it ends (then 0 only when it is ready).
    With --runtime, the environment's runtime log instead (bot.cli.runtime_logs)."""
    if args.runtime:
        from bot.cli.runtime_logs import runtime_logs

        return runtime_logs(args)
    if not str(args.deployment).isdigit():
        raise CliError(
            f"{args.deployment!r} is not a deployment number; for an environment's app output "
            f"use `autostack logs {args.deployment} --runtime`",
            USAGE,
        )
    creds = client.credentials(args)
    url = f"{client.V1}/deployments/{args.deployment}/logs"
    state = _follow(creds, "GET", url, args.json, query={"follow": "1" if args.follow else "0"})
    return 0 if not args.follow or state == "ready" else 1


def rollback(args: argparse.Namespace) -> int:
    """Queue the rollback and stream the deployment it makes; 0 when it ends ready."""
    checked_names(args.project, args.env)
    creds = client.credentials(args)
    body = {"deployment": args.deployment} if args.deployment else None
    with client.connect(creds) as http:
        queued = http.json(
            "POST", f"{client.V1}/projects/{args.project}/environments/{args.env}/rollback", json_body=body
        )
    url = f"{client.V1}/deployments/{queued['deployment']}/logs"
    return 0 if _follow(creds, "GET", url, args.json, query={"follow": "1"}) == "ready" else 1
