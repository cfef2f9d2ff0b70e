"""Webhook intake: real payloads signed with the App's secret are stored; bad input is refused."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.app import AutoStackApp
from bot.services import Services
from store.db import plain_dsn
from tests.conftest import SECRET, payload_bytes, signed_headers
from tests.intake_harness import running

PUSH = payload_bytes("push/with-new-branch")


@pytest.mark.parametrize(
    ("event", "fixture"),
    [
        ("push", "push/with-new-branch"),
        ("pull_request", "pull_request/opened"),
        ("installation", "installation/created"),
        ("issue_comment", "issue_comment/created.with-installation"),
        ("check_run", "check_run/rerequested"),
    ],
)
async def test_signed_delivery_is_stored_with_its_facts(backend, tmp_path, event, fixture):
    body = payload_bytes(fixture)
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), relay=False) as h:
        response = await h.post(body, signed_headers(body, event, delivery_id))
        assert response.status_code == 202
        assert response.json() == {"delivery": delivery_id, "status": "accepted"}
        [row] = await h.deliveries()
    import json

    parsed = json.loads(body)
    assert row.delivery_id == delivery_id
    assert row.event == event
    assert row.action == parsed.get("action")
    assert row.installation_id == (parsed.get("installation") or {}).get("id")
    assert row.repository_id == (parsed.get("repository") or {}).get("id")
    assert row.payload == body
    assert row.state == "received"


@pytest.mark.parametrize(
    ("case", "mutate", "status"),
    [
        ("no signature", lambda h: h.pop("x-hub-signature-256"), 401),
        ("wrong secret", lambda h: h.update(signed_headers(PUSH, "push", secret="other")), 401),
        ("sha1 only", lambda h: h.update({"x-hub-signature-256": "sha1=abc"}), 401),
        ("garbage signature", lambda h: h.update({"x-hub-signature-256": "sha256=zz"}), 401),
        ("no event header", lambda h: h.pop("x-github-event"), 400),
        ("no delivery header", lambda h: h.pop("x-github-delivery"), 400),
    ],
)
async def test_bad_headers_are_refused_and_nothing_is_stored(backend, tmp_path, case, mutate, status):
    headers = signed_headers(PUSH, "push")
    mutate(headers)
    async with running(backend.settings(tmp_path)) as h:
        response = await h.post(PUSH, headers)
        assert response.status_code == status, case
        assert await h.deliveries() == []
        assert await (await h.services.queue()).depth() == 0
        assert 'outcome="rejected"' in h.services.metrics.render().decode()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b"", b'"text"'])
async def test_signed_body_that_is_not_a_json_object_gets_400(backend, tmp_path, body):
    async with running(backend.settings(tmp_path)) as h:
        response = await h.post(body, signed_headers(body, "push"))
        assert response.status_code == 400
        assert "JSON" in response.json()["error"]
        assert await h.deliveries() == []


async def test_body_over_the_cap_is_refused_before_it_is_read(backend, tmp_path):
    async with running(backend.settings(tmp_path)) as h:
        h.app.intake._max_bytes = 10_000
        big = b'{"pad": "' + b"x" * 20_000 + b'"}'
        response = await h.post(big, signed_headers(big, "push"))
        assert response.status_code == 413
        assert await h.deliveries() == []


async def test_streamed_body_is_cut_off_at_the_cap_without_content_length(sqlite_backend, tmp_path):
    """A chunked body with no Content-Length is refused once it passes the cap, mid-stream."""
    chunks_sent = 0

    async def receive():
        nonlocal chunks_sent
        chunks_sent += 1
        return {"type": "http.request", "body": b"x" * 1024 * 1024, "more_body": chunks_sent < 1000}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    services = Services.build(sqlite_backend.settings(tmp_path), sqlite_backend.redis_url)
    app = AutoStackApp(services, run_intake=False)
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(b"{}", "push").items()]
    scope = {"type": "http", "method": "POST", "path": services.settings.webhook_path, "headers": headers}
    await app(scope, receive, send)
    await services.close()
    assert sent[0]["status"] == 413
    # 25 MB cap: reading stopped at the 26th 1 MB chunk, not after all 1000
    assert chunks_sent == 26


async def test_ping_is_answered_and_not_stored(backend, tmp_path):
    body = b'{"zen": "Design for failure.", "hook_id": 1}'
    async with running(backend.settings(tmp_path)) as h:
        response = await h.post(body, signed_headers(body, "ping"))
        assert response.status_code == 200
        assert response.json()["msg"] == "pong"
        assert await h.deliveries() == []


async def test_redelivery_is_acknowledged_once_and_queued_once(backend, tmp_path):
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path)) as h:
        first = await h.post(PUSH, signed_headers(PUSH, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        second = await h.post(PUSH, signed_headers(PUSH, "push", delivery_id))
        assert (first.status_code, second.status_code) == (202, 200)
        assert second.json()["status"] == "duplicate"
        assert len(await h.deliveries()) == 1
        assert await (await h.services.queue()).depth() == 1


async def test_rotated_secrets_are_all_accepted(backend, tmp_path):
    settings = backend.settings(tmp_path, webhook_secrets=("new-secret", SECRET))
    async with running(settings) as h:
        old = await h.post(PUSH, signed_headers(PUSH, "push"))
        new = await h.post(PUSH, signed_headers(PUSH, "push", secret="new-secret"))
        assert (old.status_code, new.status_code) == (202, 202)


async def test_database_down_answers_503_so_github_redelivers(tmp_path, sqlite_backend):
    from tests.servers import free_port

    settings = sqlite_backend.settings(
        tmp_path, database_url=f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    )
    async with running(settings) as h:
        response = await h.post(PUSH, signed_headers(PUSH, "push"))
    assert response.status_code == 503
    assert "redeliver" in response.json()["error"]


async def test_many_concurrent_deliveries_are_each_stored_once(backend, tmp_path):
    import asyncio

    ids = [str(uuid.uuid4()) for _ in range(200)]
    async with running(backend.settings(tmp_path)) as h:
        answers = await asyncio.gather(
            *(h.post(PUSH, signed_headers(PUSH, "push", i)) for i in ids + ids[:50])
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses.count(202) == 200
        assert statuses.count(200) == 50
        assert {d.delivery_id for d in await h.deliveries()} == set(ids)
        for delivery_id in ids:
            await h.wait_for_job(delivery_id)
        assert await (await h.services.queue()).depth() == 200


@contextlib.contextmanager
def table_locked(database_url: str) -> Iterator[None]:
    """Hold an exclusive lock on the deliveries table (on SQLite: the whole database)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database or "", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
    else:
        conn = psycopg.connect(plain_dsn(url))
        conn.execute("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


async def test_store_slower_than_the_deadline_answers_503_and_the_redelivery_is_stored_once(
    backend, tmp_path
):
    delivery_id = str(uuid.uuid4())
    headers = signed_headers(PUSH, "push", delivery_id)
    async with running(backend.settings(tmp_path), relay=False) as h:
        h.services.writer._answer_within = 0.5
        with table_locked(backend.database_url):
            started = time.monotonic()
            blocked = await h.post(PUSH, headers)
            waited = time.monotonic() - started
        assert blocked.status_code == 503
        assert waited < 3
        redelivered = await h.post(PUSH, headers)
        assert redelivered.status_code in (200, 202)
        assert [row.delivery_id for row in await h.deliveries()] == [delivery_id]


async def test_made_up_event_names_share_one_metrics_label(backend, tmp_path):
    async with running(backend.settings(tmp_path)) as h:
        for n in range(20):
            headers = signed_headers(PUSH, f"made_up_{n}", secret="not-the-secret")
            assert (await h.post(PUSH, headers)).status_code == 401
        metrics = h.services.metrics.render().decode()
    assert 'autostack_webhook_deliveries_total{event="other",outcome="rejected"} 20.0' in metrics
    assert "made_up" not in metrics


def _with(payload: bytes, **fields: object) -> bytes:
    """The payload with top-level fields replaced (values already JSON, as bytes)."""
    import orjson

    parsed = orjson.loads(payload)
    body = orjson.dumps({k: v for k, v in parsed.items() if k not in fields})
    extra = b",".join(orjson.dumps(k) + b":" + v for k, v in fields.items())  # type: ignore[operator]
    return body[:-1] + b"," + extra + b"}"


INSTALLATION = payload_bytes("installation/created")
BAD_VALUES = [
    (
        "installation id 2**64",
        "installation",
        _with(INSTALLATION, installation=b'{"id":18446744073709551616}'),
        "installation.id out of range",
    ),
    (
        "installation id 2**63",
        "installation",
        _with(INSTALLATION, installation=b'{"id":9223372036854775808}'),
        "installation.id out of range",
    ),
    (
        "repository id below BIGINT",
        "push",
        _with(PUSH, repository=b'{"id":-9223372036854775809}'),
        "repository.id out of range",
    ),
    (
        "action of 65 characters",
        "installation",
        _with(INSTALLATION, action=b'"' + b"a" * 65 + b'"'),
        "action longer than 64 characters",
    ),
    (
        "action with NUL",
        "installation",
        _with(INSTALLATION, action=b'"crea\\u0000ted"'),
        "action contains a NUL",
    ),
    ("nested 513 deep", "push", _with(PUSH, extra=b"[" * 512 + b"]" * 512), "nested deeper than 512 levels"),
    ("nested 1000 deep", "push", _with(PUSH, extra=b"[" * 999 + b"]" * 999), "nested deeper than 512 levels"),
]


@pytest.mark.parametrize(("case", "event", "body", "refused"), BAD_VALUES, ids=[v[0] for v in BAD_VALUES])
async def test_a_bad_value_is_refused_alone_and_its_neighbours_are_stored(
    backend, tmp_path, case, event, body, refused
):
    import asyncio

    bad_id = str(uuid.uuid4())
    good = [str(uuid.uuid4()) for _ in range(120)]
    async with running(backend.settings(tmp_path), relay=False) as h:
        answers = await asyncio.gather(
            *(h.post(PUSH, signed_headers(PUSH, "push", i)) for i in good[:60]),
            h.post(body, signed_headers(body, event, bad_id)),
            *(h.post(PUSH, signed_headers(PUSH, "push", i)) for i in good[60:]),
        )
        stored = {d.delivery_id for d in await h.deliveries()}
    bad = answers.pop(60)
    assert bad.status_code == 400, bad.text
    assert refused in bad.json()["error"]
    assert [r.status_code for r in answers] == [202] * 120
    assert stored == set(good)


@pytest.mark.parametrize(
    ("case", "headers", "refused"),
    [
        ("event of 65 characters", {"x-github-event": "e" * 65}, "X-GitHub-Event must be 1 to 64"),
        ("event with a space", {"x-github-event": "push event"}, "X-GitHub-Event"),
        (
            "delivery id of 65 characters",
            {"x-github-delivery": "d" * 65},
            "X-GitHub-Delivery must be 1 to 64",
        ),
        ("delivery id with a slash", {"x-github-delivery": "../d"}, "X-GitHub-Delivery"),
    ],
)
async def test_a_bad_header_is_refused_alone_and_its_neighbours_are_stored(
    backend, tmp_path, case, headers, refused
):
    import asyncio

    good = [str(uuid.uuid4()) for _ in range(60)]
    bad_headers = {**signed_headers(PUSH, "push"), **headers}
    async with running(backend.settings(tmp_path), relay=False) as h:
        bad, *answers = await asyncio.gather(
            h.post(PUSH, bad_headers), *(h.post(PUSH, signed_headers(PUSH, "push", i)) for i in good)
        )
        stored = {d.delivery_id for d in await h.deliveries()}
    assert bad.status_code == 400
    assert refused in bad.json()["error"]
    assert [r.status_code for r in answers] == [202] * 60
    assert stored == set(good)


async def test_nesting_at_the_limit_and_nul_in_the_payload_are_stored(backend, tmp_path):
    bodies = {
        "deep": _with(PUSH, extra=b"[" * 511 + b"]" * 511),
        "nul": _with(PUSH, head_commit=b'{"id":"abc","message":"a\\u0000b"}'),
    }
    ids = {name: str(uuid.uuid4()) for name in bodies}
    async with running(backend.settings(tmp_path), relay=False) as h:
        for name, body in bodies.items():
            response = await h.post(body, signed_headers(body, "push", ids[name]))
            assert response.status_code == 202, (name, response.text)
        stored = {d.delivery_id: d.payload for d in await h.deliveries()}
    assert stored == {ids[name]: body for name, body in bodies.items()}
