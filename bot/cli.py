"""The `autostack` command: serve, worker, relay, migrate, receive."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import uvloop

from bot import cli_deploy, logs
from bot.receive import dispatch_locally, new_delivery_id, read_payload, send
from bot.settings import Settings, SettingsError
from store.migrate import upgrade
from store.schema_check import SchemaMismatchError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autostack", description="Deploy GitHub repositories to your own cluster."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="web page and webhook intake (plus worker and queue on embedded defaults)"
    )
    worker = commands.add_parser("worker", help="run queued jobs (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument(
        "--deploys",
        action="store_true",
        help="run the deploy queue (builds, rollouts, the reconciler) instead of deliveries",
    )
    commands.add_parser("relay", help="move stored deliveries onto the queue (needs REDIS_URL)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser(
        "rotate-key", help="re-encrypt secrets under the first SECRET_KEY so older keys can be removed"
    )
    receive = commands.add_parser("receive", help="replay a webhook payload file")
    receive.add_argument("-e", "--event", required=True, help="the X-GitHub-Event name, e.g. push")
    receive.add_argument("-p", "--payload", required=True, type=Path, help="path to the JSON payload")
    receive.add_argument("--url", help="POST it, signed, to this webhook URL instead of handling it here")
    receive.add_argument("--delivery-id", default=None, help="X-GitHub-Delivery (default: a new GUID)")
    receive.add_argument("--dry-run", action="store_true", help="print the jobs it would queue instead")
    cli_deploy.add_commands(commands)
    return parser


def _receive(settings: Settings, args: argparse.Namespace) -> int:
    body = read_payload(args.payload)
    delivery_id = args.delivery_id or new_delivery_id()
    if args.url:
        secret = settings.require_webhook_secrets()[0]
        response = send(args.url, secret, args.event, body, delivery_id)
        print(f"{response.status_code} {response.text}")
        return 0 if response.is_success else 1
    state = asyncio.run(dispatch_locally(settings, args.event, body, delivery_id, dry_run=args.dry_run))
    print(f"delivery {delivery_id} ({args.event}): {state}")
    return 0 if state in ("done", "ignored") else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `autostack` console script."""
    args = _parser().parse_args(argv)
    if args.command in cli_deploy.COMMANDS:
        return cli_deploy.run(args)
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level, settings.log_format)
        if args.command == "serve":
            from bot.serve import serve

            # uvloop: the intake's HTTP and database round trips cost a third less CPU than on asyncio's loop
            uvloop.run(serve(settings))
        elif args.command == "worker":
            from bot.serve import run_deploy_worker, run_worker

            run = run_deploy_worker if args.deploys else run_worker
            uvloop.run(run(settings, burst=args.burst))
        elif args.command == "relay":
            from bot.serve import run_relay

            uvloop.run(run_relay(settings))
        elif args.command == "migrate":
            upgrade(settings.database_url)
            print("database schema is up to date")
        elif args.command == "receive":
            return _receive(settings, args)
        elif args.command == "rotate-key":
            from bot.web.keys import rotate_key

            print(asyncio.run(rotate_key(settings)))
    except (SettingsError, SchemaMismatchError) as exc:
        print(f"autostack: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
