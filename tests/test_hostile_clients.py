"""Slow, idle and greedy clients against `autostack serve`: each is answered or closed in
bounded time, and a signed delivery sent meanwhile is still taken."""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import httpx

from tests.conftest import payload_bytes, signed_headers
from tests.served import (
    BODY_TIMEOUT,
    HEADER_TIMEOUT,
    KEEPALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    Served,
    connect,
    send_slowly,
    status_of,
    until_closed,
)

SLACK = 2.0
WEBHOOKS = "/api/github/webhooks"
BODY = payload_bytes("installation/created")


def _request_head(headers: dict[str, str], length: int) -> bytes:
    lines = [f"POST {WEBHOOKS} HTTP/1.1", "Host: autostack.test", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_client_that_never_sends_anything_is_closed(guarded: Served):
    with connect(guarded.port) as sock:
        answer, took = until_closed(sock, within=HEADER_TIMEOUT + SLACK)
    assert answer == b""
    assert took >= HEADER_TIMEOUT - 0.5


def test_headers_trickled_past_the_header_timeout_get_408_and_a_close(guarded: Served):
    head = _request_head(signed_headers(BODY, "installation"), len(BODY))
    with connect(guarded.port) as sock:
        started = time.monotonic()
        # 10 bytes a second: these headers would need half a minute
        send_slowly(sock, head, interval=0.1)
        answer, _ = until_closed(sock, within=SLACK)
    assert status_of(answer) == 408
    assert b"request headers took longer than" in answer
    assert time.monotonic() - started < HEADER_TIMEOUT + SLACK


def test_a_body_trickled_past_the_body_timeout_gets_408_and_nothing_is_stored(guarded: Served):
    delivery = f"slow-body-{uuid.uuid4()}"
    headers = signed_headers(BODY, "installation", delivery)
    with connect(guarded.port) as sock:
        sock.sendall(_request_head(headers, len(BODY)) + BODY[:200])
        started = time.monotonic()
        send_slowly(sock, BODY[200:], interval=0.05)  # 20 bytes a second
        answer, _ = until_closed(sock, within=SLACK)
    assert status_of(answer) == 408
    assert b"request body took longer than" in answer
    assert time.monotonic() - started < BODY_TIMEOUT + SLACK
    assert delivery not in guarded.delivery_ids()
    # the same delivery sent at a normal pace is taken: nothing of the slow one was kept
    again = httpx.post(f"{guarded.base}{WEBHOOKS}", content=BODY, headers=headers)
    assert again.status_code == 202, again.text
    assert delivery in guarded.delivery_ids()


def test_a_body_arriving_at_a_real_rate_is_taken_even_past_the_body_timeout(guarded: Served):
    # 512 KB at about 256 KB/s: twice the body timeout, within its grace of a second per 64 KiB
    body = json.dumps({"action": "created", "padding": "x" * 512_000}).encode()
    delivery = f"steady-body-{uuid.uuid4()}"
    with connect(guarded.port) as sock:
        sock.sendall(_request_head(signed_headers(body, "installation", delivery), len(body)))
        started = time.monotonic()
        for offset in range(0, len(body), 16_384):
            sock.sendall(body[offset : offset + 16_384])
            time.sleep(0.07)
        assert time.monotonic() - started > 2 * BODY_TIMEOUT
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert status_of(answer) == 202, answer
    assert delivery in guarded.delivery_ids()


def test_headers_larger_than_the_cap_get_431(guarded: Served):
    filler = "a" * 70_000
    with connect(guarded.port) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n".encode())
        answer, _ = until_closed(sock, within=SLACK)
    assert status_of(answer) == 431
    below = httpx.get(f"{guarded.base}/healthz", headers={"x-filler": "a" * 60_000})
    assert below.status_code == 200


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_limit(guarded: Served):
    with connect(guarded.port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer, took = until_closed(sock, within=KEEPALIVE_TIMEOUT + SLACK)
    assert status_of(answer) == 200 and answer.endswith(b'{"status":"ok"}')
    assert took >= KEEPALIVE_TIMEOUT - 0.5


def test_a_delivery_is_taken_while_300_idle_and_slow_connections_are_held(guarded: Served):
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(connect(guarded.port)) for _ in range(300)]
        opened = time.monotonic()
        for sock in held[::2]:
            sock.sendall(b"POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\n")  # never finished
        delivery = f"among-idle-{uuid.uuid4()}"
        answer = httpx.post(
            f"{guarded.base}{WEBHOOKS}",
            content=BODY,
            headers=signed_headers(BODY, "installation", delivery),
            timeout=5,
        )
        assert answer.status_code == 202, answer.text
        assert time.monotonic() - opened < HEADER_TIMEOUT, "the delivery was not sent while they were held"
        # every held connection is reaped by the header deadline, none left for ever
        for sock in held:
            until_closed(sock, within=max(0.1, opened + HEADER_TIMEOUT + SLACK - time.monotonic()))
    assert delivery in guarded.delivery_ids()


def test_connections_past_the_cap_are_refused_with_503_and_served_again_once_some_close(capped: Served):
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(connect(capped.port)) for _ in range(MAX_CONNECTIONS)]
        # the server has accepted them all once it answers on the first
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200 ")
        with connect(capped.port) as extra:
            answer, _ = until_closed(extra, within=SLACK)
        assert status_of(answer) == 503
        for sock in held[1:5]:
            sock.close()
        deadline = time.monotonic() + SLACK
        while True:
            try:
                if httpx.get(f"{capped.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no connection taken after others closed"
            time.sleep(0.1)
