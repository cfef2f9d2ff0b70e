"""`autostack login` and `logout`: keep a server URL and API token in the user's config folder."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from bot.cli import config
from bot.cli.errors import USAGE, CliError


def _token(given: str | None) -> str:
    if given == "-":
        token = sys.stdin.readline().strip()
    elif given is not None:
        token = given.strip()
    elif sys.stdin.isatty():
        token = getpass.getpass("API key (made on the team page; input hidden): ").strip()
    else:
        raise CliError("no token: pass --token KEY, or --token - to read it from stdin", USAGE)
    if not token:
        raise CliError("the token is empty", USAGE)
    return token


def login(args: argparse.Namespace) -> int:
    """Check the token with one API call, then save it with the URL (file 0600, folder 0700)."""
    from bot.cli import client

    url = config.normal_url(
        args.server or os.environ.get("AUTOSTACK_URL", "") or config.local_url(os.environ)
    )
    creds = config.Credentials(url, _token(args.token), "--token")
    with client.connect(creds) as http:
        projects = http.json("GET", f"{client.V1}/projects")
    path = config.save(os.environ, url, creds.token)
    count = len(projects) if isinstance(projects, list) else 0
    if args.json:
        print(json.dumps({"url": url, "token_accepted": True, "projects": count, "config": str(path)}))
    else:
        print(f"Logged in to {url}: token accepted ({count} projects visible). Saved in {path}.")
    return 0


def logout(args: argparse.Namespace) -> int:
    """Remove the saved login (saying so when there was none)."""
    path = config.config_path(os.environ)
    try:
        path.unlink()
        removed = True
    except FileNotFoundError:
        removed = False
    if args.json:
        print(json.dumps({"logged_out": removed, "config": str(path)}))
    else:
        print(f"Logged out: removed {path}." if removed else f"Not logged in: there is no {path}.")
    return 0
