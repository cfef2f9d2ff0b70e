"""The webhook intake: verify, store, answer. Raw ASGI, since it is the hot path.

No GitHub or Kubernetes call happens here: a verified delivery is committed to the
database (group commit) and answered 202; the relay queues it afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bot.intake.facts import BadDelivery, DeliveryFacts, check_headers, delivery_facts, json_object
from bot.intake.group_commit import DeliveryRefused, DeliveryWriter, StoreUnavailable
from bot.metrics import Metrics
from bot.settings import GITHUB_WEBHOOK_MAX_BYTES
from store.deliveries import NewDelivery
from store.models import utcnow

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the size cap while it was being read."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refusing it as soon as it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away while sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(send: Send, status: int, body: dict[str, Any]) -> None:
    """Send a small JSON answer."""
    content = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


def signature_valid(secrets: tuple[bytes, ...], body: bytes, header: bytes | None) -> bool:
    """True when `X-Hub-Signature-256` matches the body under any of the secrets."""
    if not header or not header.startswith(b"sha256="):
        return False
    given = header[7:]
    # compare against every secret, so timing does not tell which one matched
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, given)
    return matched


class WebhookIntake:
    """ASGI endpoint for `POST <webhook path>`."""

    def __init__(
        self,
        secrets: tuple[str, ...],
        writer: DeliveryWriter,
        metrics: Metrics,
        max_bytes: int = GITHUB_WEBHOOK_MAX_BYTES,
    ) -> None:
        self._secrets = tuple(secret.encode() for secret in secrets)
        self._writer = writer
        self._metrics = metrics
        self._max_bytes = max_bytes

    def use_secrets(self, secrets: tuple[str, ...]) -> None:
        """Verify deliveries with these secrets from now on (the setup page registered a new App,
        whose deliveries are signed with its own secret)."""
        self._secrets = tuple(secret.encode() for secret in secrets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, {"error": "use POST"})
            return
        headers = dict(scope["headers"])
        event = headers.get(b"x-github-event", b"").decode("latin-1")
        declared = headers.get(b"content-length")
        try:
            if declared is not None and int(declared) > self._max_bytes:
                raise BodyTooLarge
            body = await read_body(receive, self._max_bytes)
        except BodyTooLarge:
            self._rejected(event)
            await respond(send, 413, {"error": f"body larger than {self._max_bytes} bytes"})
            return
        except (ConnectionError, ValueError):
            self._rejected(event)
            return
        if not signature_valid(self._secrets, body, headers.get(b"x-hub-signature-256")):
            self._rejected(event)
            await respond(send, 401, {"error": "missing or wrong X-Hub-Signature-256"})
            return
        delivery_id = headers.get(b"x-github-delivery", b"").decode("latin-1").strip()
        try:
            check_headers(event, delivery_id)
            facts = delivery_facts(body)
        except BadDelivery as exc:
            self._rejected(event)
            await respond(send, 400, {"error": str(exc)})
            return
        if event == "ping":
            self._metrics.count_delivery("ping", "accepted")
            await respond(send, 200, {"msg": "pong", "zen": (json_object(body) or {}).get("zen")})
            return
        await self._store(send, event, delivery_id, facts, body)

    async def _store(
        self, send: Send, event: str, delivery_id: str, facts: DeliveryFacts, body: bytes
    ) -> None:
        delivery = NewDelivery(
            delivery_id=delivery_id,
            event=event,
            action=facts.action,
            installation_id=facts.installation_id,
            repository_id=facts.repository_id,
            payload=body,
            received_at=utcnow(),
        )
        try:
            is_new = await self._writer.submit(delivery)
        except StoreUnavailable:
            self._metrics.count_delivery(event, "unavailable")
            await respond(send, 503, {"error": "cannot store the delivery now; redeliver it later"})
            return
        except DeliveryRefused as exc:
            self._metrics.count_delivery(event, "rejected")
            await respond(send, 422, {"error": f"the database refused this delivery: {exc}"})
            return
        outcome = "accepted" if is_new else "duplicate"
        self._metrics.count_delivery(event, outcome)
        await respond(send, 202 if is_new else 200, {"delivery": delivery_id, "status": outcome})

    def _rejected(self, event: str) -> None:
        self._metrics.count_delivery(event, "rejected")
