"""WebSocket upgrades through the router: one upstream connection per client, messages both ways."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.frames import CloseCode
from websockets.uri import parse_uri

from deployer.targets.local.forwarding import Headers, end_to_end, request_headers

log = logging.getLogger(__name__)
Scope = dict[str, Any]
# the WebSocket client library writes these itself, from its own key, version and offers
_HANDSHAKE: tuple[bytes, ...] = (
    b"host",
    b"sec-websocket-key",
    b"sec-websocket-version",
    b"sec-websocket-extensions",
)
_HANDSHAKE += (b"sec-websocket-protocol", b"sec-websocket-accept", b"content-length")


def _handshake_free(headers: Headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in headers
        if name.lower() not in _HANDSHAKE
    ]


async def relay(scope: Scope, receive: Any, send: Any, address: str) -> int:
    """Open the same WebSocket at `address` and relay until either side closes; return the status."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return 499
    client = scope.get("client")
    forwarded = request_headers(
        scope["headers"], client=client[0] if client else None, scheme=scope.get("scheme", "ws")
    )
    target = urlsplit(address)
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), target.netloc)
    options: dict[str, Any] = dict(
        additional_headers=_handshake_free(forwarded),
        subprotocols=scope.get("subprotocols") or None,
        user_agent_header=None,  # the client's own User-Agent is among the forwarded headers
        proxy=None,
        compression=None,  # loopback: compressing towards the app costs CPU and saves nothing
        max_size=None,
        ping_interval=None,  # the router pings its client; the app pings if it wants to
        open_timeout=10,
        host=target.hostname,
        port=target.port,
    )
    # the URI carries the client's Host header; host= and port= say where to connect
    uri = f"ws://{host}{path}{query}"
    try:
        parse_uri(uri)
    except InvalidURI:
        uri = f"ws://{target.netloc}{path}{query}"
    try:
        upstream = await connect(uri, **options)
    except InvalidStatus as refused:
        return await _refuse(scope, send, refused)
    except (OSError, TimeoutError, ValueError) as exc:
        log.warning("router: websocket to %s failed: %s", address, exc)
        return await _unreachable(scope, send)
    async with upstream:
        response = upstream.response
        accept_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in (response.headers.raw_items() if response is not None else [])
        ]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": upstream.subprotocol,
                "headers": [(k, v) for k, v in end_to_end(accept_headers) if k.lower() not in _HANDSHAKE],
            }
        )
        await _pump(receive, send, upstream)
    return 101


async def _refuse(scope: Scope, send: Any, refused: InvalidStatus) -> int:
    """Answer the client with the app's own refusal when the server can, else a plain close."""
    response = refused.response
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": CloseCode.POLICY_VIOLATION})
        return response.status_code
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.raw_items()]
    await send(
        {
            "type": "websocket.http.response.start",
            "status": response.status_code,
            "headers": [(k, v) for k, v in end_to_end(raw) if k.lower() != b"content-length"],
        }
    )
    await send({"type": "websocket.http.response.body", "body": response.body or b""})
    return response.status_code


async def _unreachable(scope: Scope, send: Any) -> int:
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": CloseCode.TRY_AGAIN_LATER})
        return 502
    body = b"the app did not answer\n"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "websocket.http.response.start", "status": 502, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
    return 502


def _close_code(upstream: ClientConnection) -> tuple[int, str]:
    """The app's close, repeated to the client; codes that never go on the wire become 1000/1011."""
    close = upstream.protocol.close_rcvd
    if close is None:
        return CloseCode.INTERNAL_ERROR, ""
    if close.code in (CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE):
        return CloseCode.NORMAL_CLOSURE, ""
    return close.code, close.reason


async def _pump(receive: Any, send: Any, upstream: ClientConnection) -> None:
    async def client_to_app() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(message.get("code", 1000), message.get("reason") or "")
                return
            data = message.get("text") if message.get("text") is not None else message.get("bytes")
            if data is not None:
                await upstream.send(data)

    async def app_to_client() -> None:
        try:
            async for data in upstream:
                key = "text" if isinstance(data, str) else "bytes"
                await send({"type": "websocket.send", key: data})
        except ConnectionClosed:
            pass
        code, reason = _close_code(upstream)
        with contextlib.suppress(OSError, RuntimeError):  # the client may already be gone
            await send({"type": "websocket.close", "code": code, "reason": reason})

    tasks = [asyncio.create_task(client_to_app()), asyncio.create_task(app_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
