"""`autostack destroy ENV --project P`: confirmed by typing the environment's name on a terminal
(as Vercel and Render ask), or by --yes; never silently from a script."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli import client
from bot.cli.errors import USAGE, CliError
from bot.cli.stream import checked_names


def _confirmed(project: str, env: str) -> bool:
    if not sys.stdin.isatty():
        raise CliError(
            f"refusing to destroy {project}/{env} without confirmation: no terminal to ask on; "
            "pass --yes to destroy it",
            USAGE,
        )
    print(
        f"This stops {project}/{env} and takes its URL down. Type the environment name ({env}) to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip() == env


def destroy(args: argparse.Namespace) -> int:
    """Destroy the environment after confirmation; 1 when it already was destroyed."""
    checked_names(args.project, args.env)
    creds = client.credentials(args)
    if not args.yes and not _confirmed(args.project, args.env):
        raise CliError(f"{args.project}/{args.env} was not destroyed: the name did not match")
    with client.connect(creds) as http:
        http.json("DELETE", f"{client.V1}/projects/{args.project}/environments/{args.env}")
    if args.json:
        print(json.dumps({"destroyed": True, "project": args.project, "environment": args.env}))
    else:
        print(f"Destroyed {args.project}/{args.env}: its app is stopped and its URL no longer answers.")
    return 0
