"""`autostack receive`: replay a saved webhook payload, like `probot receive`.

With `--url`, the payload is signed with WEBHOOK_SECRET and POSTed to a running AutoStack,
exactly as GitHub would send it. Without it, the delivery is stored and routed in-process;
under `--dry-run` jobs are only printed, never queued, and every row the run writes (the
delivery itself included) is rolled back at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bot.intake.group_commit import DeliveryWriter
from bot.services import Services
from bot.settings import Settings, SettingsError, with_local_secrets
from bot.worker.deliveries import process_delivery
from store.db import rolled_back, transaction
from store.deliveries import NewDelivery
from store.migrate import upgrade
from store.models import Delivery, utcnow
from store.upserts import insert_if_absent


def signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` header value GitHub would send for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def read_payload(path: Path) -> bytes:
    """The payload file's bytes, refused with a clear message unless it is a JSON object."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"--payload {path}: cannot read it ({exc.strerror})") from None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SettingsError(f"--payload {path}: not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise SettingsError(f"--payload {path}: expected a JSON object")
    return body


def send(url: str, secret: str, event: str, body: bytes, delivery_id: str) -> httpx.Response:
    """POST the delivery to a running AutoStack, signed like GitHub signs it."""
    headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/autostack-receive",
        "x-github-event": event,
        "x-github-delivery": delivery_id,
        "x-hub-signature-256": signature(secret, body),
    }
    return httpx.post(url, content=body, headers=headers, timeout=30)


class PrintedJobs:
    """A job queue that prints what it would enqueue (for --dry-run)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], str | None]] = []

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        self.jobs.append((function, args, job_id))
        print(f"would enqueue {function}{json.dumps(list(args))} job_id={job_id}")
        return True


async def dispatch_locally(
    settings: Settings, event: str, body: bytes, delivery_id: str, *, dry_run: bool
) -> str:
    """Store the delivery and run its handlers in this process; returns the delivery's state."""
    settings = with_local_secrets(settings)
    if settings.embedded_database:
        await asyncio.to_thread(upgrade, settings.database_url)
    redis_url = settings.redis_url or f"unix://{settings.data_dir / 'redis' / 'redis.sock'}"
    services = Services.build(settings, redis_url, dry_run=dry_run)
    try:
        payload = orjson.loads(body)
        delivery = NewDelivery(
            delivery_id=delivery_id,
            event=event,
            action=payload.get("action"),
            installation_id=(payload.get("installation") or {}).get("id"),
            repository_id=(payload.get("repository") or {}).get("id"),
            payload=body,
            received_at=utcnow(),
        )
        if dry_run:
            return await _dry_run(services, delivery)
        writer = DeliveryWriter(services.sessions)
        task = asyncio.create_task(writer.run())
        try:
            await writer.submit(delivery)
        finally:
            task.cancel()
            # awaited: the writer closes its connections as it stops, before the services close
            await asyncio.gather(task, return_exceptions=True)
        return await process_delivery(services, delivery_id)
    finally:
        await services.close()


async def _dry_run(services: Services, delivery: NewDelivery) -> str:
    """Store and handle the delivery in one transaction that is rolled back: the handlers see
    their own rows as they go, and no queued deployment (or any other row) is left behind."""
    async with rolled_back(services.engine) as sessions:
        services.sessions = sessions
        async with transaction(sessions) as tx:
            await insert_if_absent(tx, Delivery, dataclasses.asdict(delivery))
        return await process_delivery(services, delivery.delivery_id, jobs=PrintedJobs())


def new_delivery_id() -> str:
    """A fresh GUID, shaped like GitHub's delivery ids."""
    return str(uuid.uuid4())
