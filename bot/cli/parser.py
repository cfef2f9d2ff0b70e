"""The `autostack` argument parser: argparse alone, so `--help` and the docs cost no imports.

Every subcommand sets `verb` to "module:function" of bot/cli; main imports only that module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from store.environment_names import PRODUCTION

CLIENT_VERBS = ("login", "logout", "deploy", "ls", "logs", "rollback", "destroy")


def _client(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, verb: str, help: str
) -> argparse.ArgumentParser:
    """A client subcommand: it talks to a running server, so it takes --server and --json."""
    sub = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    sub.add_argument(
        "--server",
        "--url",
        dest="server",
        metavar="URL",
        help="AutoStack's URL (default: $AUTOSTACK_URL, the saved login, or http://127.0.0.1:$PORT)",
    )
    sub.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    sub.set_defaults(verb=verb)
    return sub


def _server_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def add(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        sub.set_defaults(verb=f"server:{name.replace('-', '_')}")
        return sub

    add("serve", "web page and webhook intake (plus worker and queue on embedded defaults)")
    worker = add("worker", "run queued jobs (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument(
        "--deploys",
        action="store_true",
        help="run the deploy queue (builds, rollouts, the reconciler) instead of deliveries",
    )
    add("relay", "move stored deliveries onto the queue (needs REDIS_URL)")
    add("migrate", "bring the database schema up to date")
    add("rotate-key", "re-encrypt secrets under the first SECRET_KEY so older keys can be removed")
    receive = add("receive", "replay a webhook payload file")
    receive.add_argument("-e", "--event", required=True, help="the X-GitHub-Event name, e.g. push")
    receive.add_argument("-p", "--payload", required=True, type=Path, help="path to the JSON payload")
    receive.add_argument("--url", help="POST it, signed, to this webhook URL instead of handling it here")
    receive.add_argument("--delivery-id", default=None, help="X-GitHub-Delivery (default: a new GUID)")
    receive.add_argument("--dry-run", action="store_true", help="print the jobs it would queue instead")


def _client_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = _client(commands, "login", "session:login", "save a server URL and API token for later commands")
    login.add_argument(
        "--token",
        metavar="KEY",
        help="the API key ('-' reads it from stdin; default: ask for it without echoing)",
    )
    _client(commands, "logout", "session:logout", "forget the saved server URL and API token")
    deploy = _client(commands, "deploy", "stream:deploy", "deploy a local folder and stream its build")
    deploy.add_argument("path", type=Path, nargs="?", default=Path("."), help="the folder (default: .)")
    deploy.add_argument("--project", help="project name (default: the folder's name)")
    deploy.add_argument("--env", default=PRODUCTION, help="production (default), preview, pr-N or branch-X")
    ls = _client(commands, "ls", "listing:ls", "list recent deployments, marking the live one")
    ls.add_argument("--project", help="only this project's deployments")
    logs = _client(
        commands, "logs", "stream:logs", "print a deployment's build log or an environment's runtime log"
    )
    logs.add_argument(
        "deployment",
        metavar="ID_OR_ENV",
        help="the deployment's number (see `autostack ls`), or with --runtime the environment",
    )
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until it ends (or Ctrl-C)")
    logs.add_argument("--runtime", action="store_true", help="what the environment's live app prints")
    logs.add_argument("--project", help="with --runtime: the project (default: the folder's name)")
    logs.add_argument(
        "--tail", type=int, default=200, help="with --runtime: how many earlier lines (default 200)"
    )
    logs.add_argument("--since", help="with --runtime: only lines since a time or an age (30s, 10m, 2h)")
    logs.add_argument(
        "--previous", action="store_true", help="with --runtime: the crashed container's lines (kubernetes)"
    )
    rollback = _client(
        commands, "rollback", "stream:rollback", "put an earlier build back into an environment"
    )
    rollback.add_argument("env", help="the environment, e.g. production")
    rollback.add_argument(
        "deployment", type=int, nargs="?", help="the build to restore (default: the previous)"
    )
    rollback.add_argument("--project", required=True)
    destroy = _client(
        commands, "destroy", "destroy:destroy", "stop an environment's app and mark it destroyed"
    )
    destroy.add_argument("env", help="the environment, e.g. pr-7")
    destroy.add_argument("--project", required=True)
    destroy.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def parser() -> argparse.ArgumentParser:
    """The whole `autostack` command line."""
    root = argparse.ArgumentParser(
        prog="autostack", description="Deploy GitHub repositories to your own cluster."
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _server_commands(commands)
    _client_commands(commands)
    return root
