"""Behind a proxy the pages see the client's address (the activity log records it) only when the
proxy is trusted; the webhook intake does not look at forwarded headers at all."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import AutoStackApp
from bot.services import Services
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running


async def _whoami(request: Request) -> JSONResponse:
    return JSONResponse(
        {"client": request.client.host if request.client else None, "scheme": request.url.scheme}
    )


FORWARDED = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}


@pytest.mark.parametrize(
    ("allow", "peer", "expected"),
    [
        (None, "127.0.0.1", {"client": "203.0.113.9", "scheme": "https"}),
        ("10.0.0.7", "10.0.0.7", {"client": "203.0.113.9", "scheme": "https"}),
        ("10.0.0.7", "127.0.0.1", {"client": "127.0.0.1", "scheme": "http"}),
        ("*", "192.0.2.44", {"client": "203.0.113.9", "scheme": "https"}),
    ],
)
async def test_pages_trust_forwarded_headers_only_from_allowed_proxies(
    sqlite_backend, tmp_path, allow, peer, expected
):
    overrides = {} if allow is None else {"forwarded_allow_ips": allow}
    services = Services.build(sqlite_backend.settings(tmp_path, **overrides), sqlite_backend.redis_url)
    app = AutoStackApp(services, [Route("/whoami", _whoami)], run_intake=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 50123))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://autostack.test") as client:
            response = await client.get("/whoami", headers=FORWARDED)
    finally:
        await services.close()
    assert response.json() == expected


async def test_a_delivery_with_forwarded_headers_is_stored_as_usual(sqlite_backend, tmp_path):
    body = payload_bytes("push/with-new-branch")
    async with running(sqlite_backend.settings(tmp_path)) as h:
        response = await h.post(body, {**signed_headers(body, "push"), **FORWARDED})
        assert response.status_code == 202
        assert [d.event for d in await h.deliveries()] == ["push"]
