"""Deliveries no handler asks for (events githubkit does not know among them) end `ignored` with
a reason, never stuck."""

from __future__ import annotations

import asyncio
import uuid

import orjson

from handlers.context import Context
from handlers.router import EventRouter
from store.deliveries import NewDelivery
from store.models import utcnow
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running

INSTALLATION = {"id": 4242}
# made up, and GHES-only events githubkit has no model of
UNKNOWN = [
    "cache_sync",
    "content_reference",
    "enterprise",
    "user",
    "exemption_request_secret_scanning",
    "made_up",
]


async def test_unknown_events_and_actions_end_ignored_with_the_reason(backend, tmp_path):
    sent = {
        event: (event, orjson.dumps({"action": "created", "installation": INSTALLATION})) for event in UNKNOWN
    }
    opened = orjson.loads(payload_bytes("pull_request/opened"))
    sent["unknown action"] = ("pull_request", orjson.dumps({**opened, "action": "frobnicated"}))
    sent["no action"] = ("made_up_too", b"{}")
    ids = {name: str(uuid.uuid4()) for name in sent}
    async with running(backend.settings(tmp_path)) as h:
        for name, (event, body) in sent.items():
            assert (await h.post(body, signed_headers(body, event, ids[name]))).status_code == 202
        for delivery_id in ids.values():
            await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        rows = {name: await h.wait_for_state(ids[name], "ignored", "done", "failed") for name in ids}
    assert {name: row.state for name, row in rows.items()} == dict.fromkeys(sent, "ignored")
    for event in UNKNOWN:
        assert rows[event].error == f"no handler for {event}.created"
        assert rows[event].finished_at is not None and rows[event].attempts == 1
    assert rows["unknown action"].error.startswith("no handler for pull_request.frobnicated")
    assert rows["no action"].error == "no handler for made_up_too"


async def test_an_event_githubkit_does_not_know_still_reaches_a_handler_that_asks_for_it(backend, tmp_path):
    router = EventRouter()
    seen: list[str] = []

    @router.on("cache_sync")
    async def on_cache_sync(ctx: Context) -> None:
        seen.append(ctx.payload["repository"])

    body = b'{"repository": "octo/repo", "installation": {"id": 1}}'
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), router) as h:
        assert (await h.post(body, signed_headers(body, "cache_sync", delivery_id))).status_code == 202
        await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        row = await h.wait_for_state(delivery_id, "done", "failed", "ignored")
    assert (row.state, row.error) == ("done", None)
    assert seen == ["octo/repo"]


async def test_a_stored_payload_the_worker_cannot_parse_fails_once_with_the_reason(backend, tmp_path):
    """A row stored before the intake refused deep nesting: orjson stops at 1024 levels."""
    router = EventRouter()

    @router.on("push")
    async def never(ctx: Context) -> None:
        raise AssertionError("a payload that does not parse reached a handler")

    depth = 1100
    deep = NewDelivery(
        str(uuid.uuid4()), "push", None, None, None, b'{"x":' + b"[" * depth + b"]" * depth + b"}", utcnow()
    )
    async with running(backend.settings(tmp_path), router) as h:
        assert await h.services.writer.submit(deep) is True
        await h.wait_for_job(deep.delivery_id)
        await h.run_worker_until_idle()
        row = await h.wait_for_state(deep.delivery_id, "failed", "done", "ignored", "processing")
        await asyncio.sleep(0.2)
        queued = await (await h.services.queue()).depth()
    assert row.state == "failed"
    assert row.error.startswith("the stored payload does not parse: ")
    assert queued == 0
