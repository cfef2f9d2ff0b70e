"""`autostack deploy | ls | logs | rollback | destroy`: talk HTTP to a running AutoStack's JSON
API (`/api/v1`, the one the page's scripts use, checked by the key's team and role).

bot/cli.py wires these in with `add_commands(subparsers)` and `run(args)` for COMMANDS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bot.deploy_names import name_problem

COMMANDS = ("deploy", "ls", "logs", "rollback", "destroy")
_V1 = "/api/v1"
_SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", ".autostack", ".next", "dist"}


def add_commands(commands: Any) -> None:
    """Add the deploy commands to the `autostack` argument parser's subcommands."""
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument(
        "--server",
        default=os.environ.get("AUTOSTACK_URL", "http://127.0.0.1:3000"),
        help="AutoStack URL (default: $AUTOSTACK_URL or http://127.0.0.1:3000)",
    )
    server.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    deploy = commands.add_parser("deploy", parents=[server], help="deploy a local folder")
    deploy.add_argument("path", type=Path)
    deploy.add_argument("--project", help="project name (default: the folder's name)")
    deploy.add_argument("--env", default="production", help="production (default) or preview")
    ls = commands.add_parser("ls", parents=[server], help="list recent deployments")
    ls.add_argument("--project")
    logs = commands.add_parser("logs", parents=[server], help="print a deployment's log")
    logs.add_argument("deployment", type=int)
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until it ends")
    rollback = commands.add_parser(
        "rollback", parents=[server], help="put an earlier build back into an environment"
    )
    rollback.add_argument("env")
    rollback.add_argument("deployment", type=int, nargs="?")
    rollback.add_argument("--project", required=True)
    destroy = commands.add_parser("destroy", parents=[server], help="stop an environment's app")
    destroy.add_argument("env")
    destroy.add_argument("--project", required=True)


def token() -> str:
    """$AUTOSTACK_TOKEN, else the local admin token that `serve` writes to its data folder."""
    if value := os.environ.get("AUTOSTACK_TOKEN", "").strip():
        return value
    path = Path(os.environ.get("AUTOSTACK_DATA_DIR", ".autostack")) / "admin-token"
    try:
        return path.read_text().strip()
    except OSError:
        raise SystemExit(
            f"no API token: set AUTOSTACK_TOKEN, or run this next to `autostack serve` so {path} exists"
        ) from None


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


def _print_events(lines: Iterator[str], as_json: bool) -> int:
    state = "failed"
    for raw in lines:
        if not raw.strip():
            continue
        event = json.loads(raw)
        if as_json:
            print(raw, flush=True)
        elif event["type"] == "deployment":
            print(f"deployment {event['id']}", flush=True)
        elif event["type"] == "phase":
            print(f"── {event['phase']}", flush=True)
        elif event["type"] == "log":
            print(f"   {event['text']}", flush=True)
        elif event["type"] == "error":
            print(event["message"], file=sys.stderr)
        if event["type"] == "finished":
            state = event["state"]
            if not as_json:
                print(_finished(event), flush=True)
    return 0 if state == "ready" else 1


def _refused(response: httpx.Response) -> int:
    try:
        message = response.json().get("error", response.text)
    except ValueError:
        message = response.text
    print(f"{message} (HTTP {response.status_code})", file=sys.stderr)
    return 1


def _finished(event: dict[str, Any]) -> str:
    """`ready: URL` or `failed: reason (log line N)`, then how long each phase took."""
    outcome = f"{event['state']}: {event['url'] or event['reason'] or ''}"
    if event.get("error_line"):
        outcome += f" (log line {event['error_line']})"
    phases = event.get("phases") or {}
    if not phases:
        return outcome
    took = " · ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
    if event.get("build_seconds") is not None:
        took += f" (build time {event['build_seconds']:.1f} s)"
    return f"{outcome}\n   {took}"


def _stream(client: httpx.Client, method: str, url: str, as_json: bool, **kwargs: Any) -> int:
    with client.stream(method, url, **kwargs) as response:
        if response.status_code >= 400:
            response.read()
            return _refused(response)
        return _print_events(response.iter_lines(), as_json)


def run(args: argparse.Namespace) -> int:
    """Run one of COMMANDS against the server; the exit status says whether it worked."""
    project = getattr(args, "project", None) or (project_name(args.path) if args.command == "deploy" else "")
    # the names go into the URL's path: a slash or dot-dot in one would reach another route
    if project and (problem := name_problem(project, getattr(args, "env", None))):
        print(problem, file=sys.stderr)
        return 2
    headers = {"authorization": f"Bearer {token()}"}
    with httpx.Client(base_url=args.server, headers=headers, timeout=httpx.Timeout(30, read=None)) as client:
        try:
            return _run(client, args, project)
        except httpx.ConnectError:
            print(f"cannot reach AutoStack at {args.server}; is `autostack serve` running?", file=sys.stderr)
            return 1


def _deploy(client: httpx.Client, args: argparse.Namespace, project: str) -> int:
    if not args.path.is_dir():
        print(f"{args.path} is not a folder", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "source.tar.gz"
        pack(args.path, archive)
        return _stream(
            client,
            "POST",
            f"{_V1}/projects/{project}/environments/{args.env}/deployments",
            args.json,
            content=archive.read_bytes(),
            headers={"content-type": "application/gzip"},
        )


def _rollback(client: httpx.Client, args: argparse.Namespace, project: str) -> int:
    body = {"deployment": args.deployment} if args.deployment else None
    queued = client.post(f"{_V1}/projects/{project}/environments/{args.env}/rollback", json=body)
    if queued.status_code >= 400:
        return _refused(queued)
    deployment = queued.json()["deployment"]
    return _stream(client, "GET", f"{_V1}/deployments/{deployment}/logs", args.json, params={"follow": "1"})


def _run(client: httpx.Client, args: argparse.Namespace, project: str) -> int:
    """`project` is "" only for `logs` and a plain `ls`, the commands without one."""
    if args.command == "deploy":
        return _deploy(client, args, project)
    if args.command == "logs":
        return _stream(
            client,
            "GET",
            f"{_V1}/deployments/{args.deployment}/logs",
            args.json,
            params={"follow": "1" if args.follow else "0"},
        )
    if args.command == "rollback":
        return _rollback(client, args, project)
    if args.command == "destroy":
        response = client.delete(f"{_V1}/projects/{project}/environments/{args.env}")
    else:
        response = client.get(f"{_V1}/projects/{project}/deployments" if project else f"{_V1}/deployments")
    if response.status_code >= 400:
        return _refused(response)
    if args.json or args.command == "destroy":
        print(json.dumps(response.json()))
        return 0
    for row in response.json():
        print(
            f"{row['id']:>6}  {row['project']:<20} {row['environment']:<12} {row['state']:<10} "
            f"{row['url'] or row['reason'] or ''}"
        )
    return 0
