"""Every kind of answer `autostack serve` gives carries the security headers; /metrics can ask
for a bearer token."""

from __future__ import annotations

import http.client
import uuid

import httpx
import pytest

from bot.intake.endpoint import Receive, Scope, Send
from bot.security_headers import SecurityHeaders
from tests.conftest import payload_bytes, signed_headers
from tests.served import METRICS_TOKEN, Served

BODY = payload_bytes("installation/created")
WEBHOOKS = "/api/github/webhooks"
PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'"


def _declared_too_large(port: int) -> tuple[int, dict[str, str]]:
    """A delivery declaring 30 MB: refused before any of it is sent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", WEBHOOKS)
        conn.putheader("Content-Length", str(30 * 1024 * 1024))
        conn.putheader("X-GitHub-Event", "push")
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, {name.lower(): value for name, value in answer.getheaders()}
    finally:
        conn.close()


# (what, method, path, request headers, status, is an HTML page, cacheable static file)
ANSWERS = [
    ("liveness", "GET", "/healthz", {}, 200, False, False),
    ("readiness", "GET", "/readyz", {}, 200, False, False),
    ("metrics", "GET", "/metrics", {"authorization": f"Bearer {METRICS_TOKEN}"}, 200, False, False),
    ("metrics refused", "GET", "/metrics", {}, 401, False, False),
    ("sign-in page", "GET", "/login", {}, 200, True, False),
    ("page needing a session", "GET", "/", {}, 303, False, False),
    ("stylesheet", "GET", "/static/style.css", {}, 200, False, True),
    ("unknown path", "GET", "/no/such/page", {}, 404, False, False),
    ("wrong method", "GET", "/logout", {}, 405, False, False),
    ("API without a key", "GET", "/api/v1/projects", {}, 401, False, False),
    ("API document", "GET", "/api/v1/openapi.json", {}, 200, False, False),
    ("intake, wrong method", "GET", WEBHOOKS, {}, 405, False, False),
    ("intake, unsigned", "POST", WEBHOOKS, {"x-github-event": "push"}, 401, False, False),
    ("intake, signed", "POST", WEBHOOKS, "signed", 202, False, False),
]


def _check(headers: httpx.Headers | dict[str, str], *, html: bool, static: bool) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    if html:
        assert policy.startswith(PAGE_POLICY) and "form-action 'self' https://github.com" in policy
    else:
        assert policy.startswith("default-src 'none'")
    if static:
        assert "cache-control" not in headers
    else:
        assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers  # plain http, no proxy saying https


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "html", "static"),
    [row[1:] for row in ANSWERS],
    ids=[row[0] for row in ANSWERS],
)
def test_each_kind_of_answer_carries_the_security_headers(
    guarded: Served,
    method: str,
    path: str,
    headers: dict[str, str] | str,
    status: int,
    html: bool,
    static: bool,
):
    content = None
    if headers == "signed":
        content, headers = BODY, signed_headers(BODY, "installation", f"headers-{uuid.uuid4()}")
    answer = httpx.request(method, f"{guarded.base}{path}", headers=headers, content=content)
    assert answer.status_code == status, answer.text
    _check(answer.headers, html=html, static=static)


def test_a_body_declared_too_large_is_refused_with_the_security_headers(guarded: Served):
    status, headers = _declared_too_large(guarded.port)
    assert status == 413
    _check(headers, html=False, static=False)


def test_the_protocols_own_refusals_carry_the_security_headers(guarded: Served):
    with httpx.Client() as client:
        answer = client.get(f"{guarded.base}/healthz", headers={"x-filler": "a" * 70_000})
    assert answer.status_code == 431
    _check(answer.headers, html=False, static=False)


def test_hsts_when_a_trusted_proxy_says_https(guarded: Served):
    behind = httpx.get(f"{guarded.base}/login", headers={"x-forwarded-proto": "https"})
    assert behind.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in httpx.get(f"{guarded.base}/login").headers


def test_hsts_on_every_answer_when_the_public_url_is_https(capped: Served):
    for path in ("/healthz", "/login", WEBHOOKS):
        answer = httpx.get(f"{capped.base}{path}")
        assert answer.headers["strict-transport-security"] == "max-age=31536000", path


def test_metrics_needs_the_bearer_token_when_one_is_set(guarded: Served):
    url = f"{guarded.base}/metrics"
    refused = httpx.get(url)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "METRICS_TOKEN" in refused.json()["error"] and METRICS_TOKEN not in refused.text
    assert httpx.get(url, headers={"authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
    allowed = httpx.get(url, headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200 and "autostack_webhook_deliveries" in allowed.text


def test_metrics_is_open_when_no_token_is_set(capped: Served):
    answer = httpx.get(f"{capped.base}/metrics")
    assert answer.status_code == 200 and "autostack_queue_depth" in answer.text


async def _fails(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


async def _caches(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def test_an_app_failing_before_it_answers_gets_500_with_the_headers():
    app = SecurityHeaders(_fails, form_action="https://github.com", always_https=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/anything")
    assert answer.status_code == 500 and "boom" not in answer.text
    _check(answer.headers, html=False, static=False)


async def test_a_header_the_answer_sets_itself_is_kept_and_not_repeated():
    app = SecurityHeaders(_caches, form_action="https://github.com", always_https=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/events")
    assert answer.headers.get_list("cache-control") == ["no-cache"]
    assert answer.headers["x-frame-options"] == "DENY"
