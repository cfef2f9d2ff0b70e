"""The server verbs: serve, worker, relay, migrate, rotate-key, receive. Each imports the part
of AutoStack it runs, when it runs."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.cli.errors import USAGE, CliError


def _settings() -> Any:
    from bot import logs
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise CliError(str(exc), USAGE) from None
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _run_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> int:
    import uvloop

    from bot.settings import SettingsError
    from store.schema_check import SchemaMismatchError

    try:
        # uvloop: the intake's HTTP and database round trips cost a third less CPU than on asyncio's loop
        uvloop.run(main())
    # a setting only a running process can judge, or a schema older or newer than this code
    except (SettingsError, SchemaMismatchError) as exc:
        raise CliError(str(exc), USAGE) from None
    return 0


def serve(args: argparse.Namespace) -> int:
    """`autostack serve`."""
    settings = _settings()
    from bot.serve import serve

    return _run_loop(lambda: serve(settings))


def worker(args: argparse.Namespace) -> int:
    """`autostack worker` (deliveries), or `autostack worker --deploys` (the deploy queue)."""
    settings = _settings()
    from bot.serve import run_deploy_worker, run_worker

    run = run_deploy_worker if args.deploys else run_worker
    return _run_loop(lambda: run(settings, burst=args.burst))


def relay(args: argparse.Namespace) -> int:
    """`autostack relay`."""
    settings = _settings()
    from bot.serve import run_relay

    return _run_loop(lambda: run_relay(settings))


def migrate(args: argparse.Namespace) -> int:
    """`autostack migrate`."""
    settings = _settings()
    from store.migrate import upgrade
    from store.schema_check import SchemaMismatchError

    try:
        upgrade(settings.database_url)
    except SchemaMismatchError as exc:
        raise CliError(str(exc), USAGE) from None
    print("database schema is up to date")
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    """`autostack rotate-key`."""
    settings = _settings()
    from bot.web.keys import rotate_key

    print(asyncio.run(rotate_key(settings)))
    return 0


def receive(args: argparse.Namespace) -> int:
    """`autostack receive`: replay a payload file here, or POST it signed to --url."""
    settings = _settings()
    from bot.intake.receive import dispatch_locally, new_delivery_id, read_payload, send
    from bot.settings import SettingsError

    try:
        body = read_payload(args.payload)
        secret = settings.require_webhook_secrets()[0] if args.url else ""
    except SettingsError as exc:
        raise CliError(str(exc), USAGE) from None
    delivery_id = args.delivery_id or new_delivery_id()
    if args.url:
        response = send(args.url, secret, args.event, body, delivery_id)
        print(f"{response.status_code} {response.text}")
        return 0 if response.is_success else 1
    state = asyncio.run(dispatch_locally(settings, args.event, body, delivery_id, dry_run=args.dry_run))
    print(f"delivery {delivery_id} ({args.event}): {state}")
    return 0 if state in ("done", "ignored") else 1
