"""The built-in reverse proxy: Host header → app process, switched atomically, old one drained.

Requests and responses pass through as they are (headers in order and repeated, bodies streamed
byte for byte, Content-Encoding untouched) apart from what `forwarding` changes for this hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import uvicorn

from deployer.targets.local import wsproxy
from deployer.targets.local.forwarding import request_headers, response_headers
from store.environment_names import PRODUCTION, host_label

log = logging.getLogger(__name__)
Scope = dict[str, Any]
_TIMEOUTS = {"connect": 5.0, "read": None, "write": 60.0, "pool": 10.0}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_NOTHING_SENT = (httpcore.ConnectError, httpcore.ConnectTimeout)
# a kept-alive connection the app closed just as it was reused: the request got no answer
_STALE = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)


def hostname_for(project: str, environment: str, domain: str = "localhost") -> str:
    """`<project>.localhost`, `pr-7--<project>.localhost`, `<slug>--<project>.localhost`."""
    if environment == PRODUCTION:
        return f"{project}.{domain}"
    return f"{host_label(environment)}--{project}.{domain}"


def _pool() -> httpcore.AsyncConnectionPool:
    # expire idle connections before the apps do (Node closes them after 5 s), so a kept-alive
    # connection is never reused just as the app closes it
    return httpcore.AsyncConnectionPool(
        max_connections=1000, max_keepalive_connections=100, keepalive_expiry=4.0
    )


@dataclass(eq=False, slots=True)
class Upstream:
    """One app process behind the router, its own connection pool, and its requests in flight."""

    address: str
    pool: httpcore.AsyncConnectionPool = field(default_factory=_pool)
    inflight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.set()

    def acquire(self) -> None:
        """Count one more request this process is answering."""
        self.inflight += 1
        self.idle.clear()

    def release(self) -> None:
        """Count one request answered."""
        self.inflight -= 1
        if not self.inflight:
            self.idle.set()


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the router answered, for traffic analytics."""

    host: str
    status: int
    duration_ms: float
    client: str | None


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class _Body:
    """The client's request body, streamed to the app as it arrives; remembers whether it began."""

    def __init__(self, receive: Any) -> None:
        self.receive = receive
        self.started = False
        self.done = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.started = True
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            more = message.get("more_body", False)
            if message.get("body"):
                yield message["body"]
        self.done.set()


class Router:
    """An ASGI reverse proxy keyed by host name; `route()` swaps the upstream in one step.

    Custom domains are aliases of an environment's host name, so a switch moves them too;
    `on_request`, when set, is told about every routed request (it must not block).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Upstream] = {}
        self.aliases: dict[str, str] = {}
        self.on_request: Callable[[Hit], None] | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def route(self, host: str, address: str) -> Upstream | None:
        """Send `host` to `address` from the next request on; return the upstream it replaced."""
        previous = self.routes.get(host)
        self.routes[host] = Upstream(address)
        return previous

    def alias(self, host: str, target_host: str) -> None:
        """Answer requests for `host` (a custom domain) as those for `target_host`."""
        self.aliases[host.lower()] = target_host

    def unalias(self, host: str) -> None:
        """Stop answering for the custom domain `host`."""
        self.aliases.pop(host.lower(), None)

    def unroute(self, host: str) -> Upstream | None:
        """Stop answering for `host`; return the upstream that served it."""
        return self.routes.pop(host, None)

    async def retire(self, upstream: Upstream, limit_seconds: float = 30.0) -> bool:
        """Wait (at most `limit_seconds`) for a replaced upstream's requests, then close its pool.

        Returns False when requests were still running at the limit (they are cut off).
        """
        try:
            async with asyncio.timeout(limit_seconds):
                await upstream.idle.wait()
        except TimeoutError:
            log.warning("router: %d requests to %s outlived the drain", upstream.inflight, upstream.address)
        await upstream.pool.aclose()
        return not upstream.inflight

    def _upstream(self, scope: Scope) -> tuple[str, Upstream | None]:
        raw = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        host = raw.rsplit(":", 1)[0].lower() if not raw.endswith("]") else raw.lower()
        key = self.aliases.get(host, host)
        return key, self.routes.get(key)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        key, upstream = self._upstream(scope)
        started, status = time.perf_counter(), 502
        try:
            if upstream is None:
                status = 404
                await _refuse(scope, send, 404, f"no app is deployed at {key or 'this address'}\n")
            elif scope["type"] == "websocket":
                upstream.acquire()
                try:
                    status = await wsproxy.relay(scope, receive, send, upstream.address)
                finally:
                    upstream.release()
            else:
                status = await self._http(key, upstream, scope, receive, send)
        finally:
            if self.on_request is not None:
                client = scope.get("client")
                elapsed = (time.perf_counter() - started) * 1000
                self.on_request(Hit(key, status, elapsed, client[0] if client else None))

    async def _http(self, key: str, upstream: Upstream, scope: Scope, receive: Any, send: Any) -> int:
        """Forward one request, retried once on the host's current upstream if nothing was sent."""
        client = scope.get("client")
        peer = client[0] if client else None
        headers = request_headers(scope["headers"], client=peer, scheme=scope["scheme"])
        framed = any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])
        if framed and not any(name == b"content-length" for name, _ in headers):
            headers.append((b"transfer-encoding", b"chunked"))  # the framing of this hop
        body = _Body(receive) if framed else None
        if body is None:
            await receive()  # the one, empty, http.request message
        target = (scope.get("raw_path") or scope["path"].encode()) + (
            b"?" + scope["query_string"] if scope.get("query_string") else b""
        )
        responded = asyncio.Event()
        exchange = asyncio.ensure_future(
            self._exchange(key, upstream, scope, headers, body, target, send, responded)
        )
        watcher = asyncio.ensure_future(_disconnect(receive, body))
        try:
            await asyncio.wait({exchange, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not exchange.done() and not responded.is_set():
                exchange.cancel()  # the client left: stop the app's answer (an endless SSE, say)
            with contextlib.suppress(asyncio.CancelledError, ClientGone):
                return await exchange
            return 499
        finally:
            watcher.cancel()
            exchange.cancel()

    async def _exchange(
        self,
        key: str,
        upstream: Upstream,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        body: _Body | None,
        target: bytes,
        send: Any,
        responded: asyncio.Event,
    ) -> int:
        method = scope["method"]
        upstream.acquire()
        try:
            for attempt in (1, 2):
                address = urlsplit(upstream.address)
                if not any(name == b"host" for name, _ in headers):
                    headers = [(b"host", address.netloc.encode()), *headers]
                request = httpcore.Request(
                    method,
                    httpcore.URL(
                        scheme=b"http", host=address.hostname or "", port=address.port, target=target
                    ),
                    headers=headers,
                    content=body if body is not None else b"",
                    extensions={"timeout": _TIMEOUTS},
                )
                try:
                    response = await upstream.pool.handle_async_request(request)
                    break
                except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
                    retry = isinstance(exc, _NOTHING_SENT) and not (body and body.started)
                    retry = retry or (isinstance(exc, _STALE) and body is None and method in _IDEMPOTENT)
                    current = self.routes.get(key)
                    if attempt == 2 or not retry or current is None:
                        log.warning("router: %s %s failed: %r", method, upstream.address, exc)
                        await _refuse(scope, send, 502, "the app did not answer\n")
                        return 502
                    upstream.release()
                    upstream = current
                    upstream.acquire()
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": response_headers(response.headers),
                    }
                )
                # an async pool's response streams asynchronously; httpcore types both kinds
                async for chunk in response.stream:  # type: ignore[union-attr]
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                responded.set()
                await send({"type": "http.response.body", "body": b""})
            finally:
                await response.aclose()
            return response.status
        finally:
            upstream.release()

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        """Listen on host:port in this event loop until `stop()`."""
        config = uvicorn.Config(
            self,
            host=host,
            port=port,
            lifespan="off",
            ws="websockets-sansio",
            # the apps' own Date and Server go through; uvicorn's would be a second copy
            date_header=False,
            server_header=False,
            proxy_headers=False,  # X-Forwarded-* are the router's to extend (see forwarding)
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(), name="autostack router")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"router could not listen on {host}:{port}")
            await asyncio.sleep(0.02)

    @property
    def port(self) -> int:
        """The port actually bound (useful when started on port 0)."""
        assert self._server is not None
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close upstream connections."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        await asyncio.gather(*(upstream.pool.aclose() for upstream in self.routes.values()))


async def _disconnect(receive: Any, body: _Body | None) -> None:
    """Return when the client disconnects; listens only once the exchange has read the body."""
    if body is not None:
        await body.done.wait()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _refuse(scope: Scope, send: Any, status: int, text: str) -> None:
    """The router's own plain-text answer (no app, or the app did not answer)."""
    body = text.encode()
    headers = response_headers(
        [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    )
    kind = "http" if scope["type"] == "http" else "websocket.http"
    if kind == "websocket.http" and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013})
        return
    await send({"type": f"{kind}.response.start", "status": status, "headers": headers})
    await send({"type": f"{kind}.response.body", "body": body})
