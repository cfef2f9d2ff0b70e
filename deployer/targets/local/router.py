"""The built-in reverse proxy: Host header → app process, switched atomically, old one drained."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

log = logging.getLogger(__name__)
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
Scope = dict[str, Any]


def hostname_for(project: str, environment: str, domain: str = "localhost") -> str:
    """`<project>.localhost`, `pr-7--<project>.localhost`, `<slug>--<project>.localhost`."""
    if environment == "production":
        return f"{project}.{domain}"
    name = environment.removeprefix("branch-")
    return f"{name}--{project}.{domain}"


@dataclass(eq=False, slots=True)
class Upstream:
    """One app process behind the router and how many requests it is answering now."""

    address: str
    inflight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.set()


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the router answered, for traffic analytics."""

    host: str
    status: int
    duration_ms: float
    client: str | None


class Router:
    """An ASGI reverse proxy keyed by host name; `route()` swaps the upstream in one step.

    Custom domains are aliases of an environment's host name, so a switch moves them too;
    `on_request`, when set, is told about every routed request (it must not block).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Upstream] = {}
        self.aliases: dict[str, str] = {}
        self.on_request: Callable[[Hit], None] | None = None
        self._client = httpx.AsyncClient(
            # upstreams are the apps' own processes on loopback over plain http: loading a CA
            # bundle for TLS that never happens cost a few MB of every server's memory
            verify=False,
            timeout=httpx.Timeout(60.0, connect=5.0),
            limits=httpx.Limits(max_connections=1000),
            follow_redirects=False,
        )
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

    async def drain(self, upstream: Upstream, limit_seconds: float = 30.0) -> None:
        """Wait until the replaced upstream has answered every request it had accepted."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit_seconds):
                await upstream.idle.wait()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").rsplit(":", 1)[0].lower()
        upstream = self.routes.get(self.aliases.get(host, host))
        if upstream is None:
            await _plain(send, 404, f"no app is deployed at {host or 'this address'}\n")
            return
        upstream.inflight += 1
        upstream.idle.clear()
        started, status = time.perf_counter(), 502

        async def recording(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._forward(upstream, scope, receive, recording, headers)
        finally:
            upstream.inflight -= 1
            if not upstream.inflight:
                upstream.idle.set()
            if self.on_request is not None:
                client = scope.get("client")
                elapsed = (time.perf_counter() - started) * 1000
                self.on_request(Hit(host, status, elapsed, client[0] if client else None))

    async def _forward(
        self, upstream: Upstream, scope: Scope, receive: Any, send: Any, headers: dict[str, str]
    ) -> None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope.get("raw_path") or scope["path"].encode()
        query = b"?" + scope["query_string"] if scope.get("query_string") else b""
        forwarded = {k: v for k, v in headers.items() if k not in _HOP_HEADERS}
        forwarded["x-forwarded-host"] = headers.get("host", "")
        forwarded["x-forwarded-proto"] = scope.get("scheme", "http")
        request = self._client.build_request(
            scope["method"],
            upstream.address + (path + query).decode("latin-1"),
            headers=forwarded,
            content=bytes(body),
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.warning("router: upstream %s failed: %s", upstream.address, exc)
            await _plain(send, 502, "the app did not answer\n")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in response.headers.multi_items()
                        if k.lower() not in _HOP_HEADERS
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        """Listen on host:port in this event loop until `stop()`."""
        config = uvicorn.Config(
            self, host=host, port=port, lifespan="off", ws="none", log_level="warning", access_log=False
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
        await self._client.aclose()


async def _plain(send: Any, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})
