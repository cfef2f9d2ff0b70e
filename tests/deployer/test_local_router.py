"""The local router is faithful: what the client sends reaches the app, what the app answers
reaches the client, apart from hop-by-hop headers; bodies stream both ways; WebSockets pass."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from deployer.targets.local.router import Router

HOST = "demo.localhost"
PAGE = gzip.compress(b"<h1>compressed page</h1>" * 50, mtime=0)


@dataclass
class Gates:
    """Lets a test step the app: each chunk waits until the test has seen the previous one."""

    first_chunk_seen: asyncio.Event = field(default_factory=asyncio.Event)
    upload_first_chunk: asyncio.Event = field(default_factory=asyncio.Event)


def upstream_app(gates: Gates) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {
                "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
                "path": request.scope["raw_path"].decode(),
                "query": request.scope["query_string"].decode(),
                "body": body.decode(),
            }
        )

    async def page(request: Request) -> Response:
        return Response(PAGE, headers={"content-encoding": "gzip", "content-type": "text/html"})

    async def cookies(request: Request) -> Response:
        response = Response("two cookies")
        response.set_cookie("session", "abc")
        response.set_cookie("theme", "dark")
        return response

    async def events(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"data: one\n\n"
            await gates.first_chunk_seen.wait()
            yield b"data: two\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def upload(request: Request) -> JSONResponse:
        parts = []
        async for chunk in request.stream():
            if chunk:
                parts.append(chunk.decode())
                gates.upload_first_chunk.set()
        return JSONResponse(parts)

    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="echo.v1")
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text("echo " + message["text"])
            else:
                await websocket.send_bytes(message["bytes"][::-1])

    async def ws_goodbye(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4001, reason="session over")

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST"]),
            Route("/page", page),
            Route("/cookies", cookies),
            Route("/events", events),
            Route("/upload", upload, methods=["POST"]),
            WebSocketRoute("/ws", ws_echo),
            WebSocketRoute("/ws-goodbye", ws_goodbye),
        ]
    )


async def serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task


@pytest.fixture
async def gates() -> Gates:
    return Gates()


@pytest.fixture
async def router(gates: Gates) -> AsyncIterator[Router]:
    app_server, app_task = await serve(upstream_app(gates))
    app_port = app_server.servers[0].sockets[0].getsockname()[1]
    router = Router()
    await router.start("127.0.0.1", 0)
    router.route(HOST, f"http://127.0.0.1:{app_port}")
    yield router
    await router.stop()
    app_server.should_exit = True
    await app_task


@dataclass
class Raw:
    """A response as the bytes on the wire show it (what curl prints with -i)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]


async def raw_get(port: int, path: str, extra: str = "", host: str = HOST) -> Raw:
    """GET with exactly the headers given, as plain curl would send them; chunked bodies decoded."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines)]
    raw = Raw(int(status_line.split()[1]), headers, body)
    if raw.all("transfer-encoding") == ["chunked"]:
        decoded, rest = b"", body
        while True:
            size, _, rest = rest.partition(b"\r\n")
            if not int(size, 16):
                break
            decoded, rest = decoded + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
        raw.body = decoded
    return raw


def received_headers(raw: Raw) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name, value in json.loads(raw.body)["headers"]:
        seen.setdefault(name, []).append(value)
    return seen


async def test_a_plain_request_reaches_the_app_without_added_headers(router: Router) -> None:
    raw = await raw_get(router.port, "/echo?q=1", "User-Agent: curl/8.5.0\r\nAccept: */*\r\n")
    seen = received_headers(raw)
    assert raw.status == 200
    assert "accept-encoding" not in seen
    assert seen["host"] == [HOST]
    assert seen["user-agent"] == ["curl/8.5.0"]
    assert "connection" not in seen
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [HOST]
    assert json.loads(raw.body)["query"] == "q=1"


async def test_hop_by_hop_headers_stop_at_the_router(router: Router) -> None:
    extra = (
        "Connection: keep-alive, X-Hop\r\nX-Hop: only for the router\r\nKeep-Alive: timeout=5\r\n"
        "TE: trailers\r\nProxy-Authorization: Basic c2VjcmV0\r\nAccept-Encoding: br\r\n"
        "X-Forwarded-For: 198.51.100.7\r\n"
    )
    seen = received_headers(await raw_get(router.port, "/echo", extra))
    for hop in ("connection", "x-hop", "keep-alive", "te", "proxy-authorization"):
        assert hop not in seen, hop
    assert seen["accept-encoding"] == ["br"]
    # a proxy on this machine sent the request on: its chain is kept, the router's peer appended
    assert seen["x-forwarded-for"] == ["198.51.100.7, 127.0.0.1"]


async def test_compressed_bytes_pass_unchanged_with_one_date_and_server(router: Router) -> None:
    raw = await raw_get(router.port, "/page", "Accept-Encoding: gzip\r\n")
    assert raw.status == 200
    assert raw.body == PAGE
    assert raw.all("content-encoding") == ["gzip"]
    assert raw.all("content-length") == [str(len(PAGE))]
    assert len(raw.all("date")) == 1
    assert raw.all("server") == ["uvicorn"]  # the app's server, not a second one from the router


async def test_every_set_cookie_is_kept(router: Router) -> None:
    raw = await raw_get(router.port, "/cookies")
    cookies = raw.all("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc") and cookies[1].startswith("theme=dark")


async def test_the_routers_own_answer_carries_a_date(router: Router) -> None:
    raw = await raw_get(router.port, "/", host="nope.localhost")
    assert raw.status == 404 and len(raw.all("date")) == 1
    assert b"no app is deployed at nope.localhost" in raw.body


async def test_events_stream_before_the_app_finishes(router: Router, gates: Gates) -> None:
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.port}", headers={"host": HOST})
    async with client, client.stream("GET", "/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = response.aiter_raw()
        # the app holds its second event back until this first one has arrived
        first = await asyncio.wait_for(anext(chunks), 5)
        assert first == b"data: one\n\n"
        gates.first_chunk_seen.set()
        assert await asyncio.wait_for(anext(chunks), 5) == b"data: two\n\n"


async def test_request_bodies_stream_to_the_app(router: Router, gates: Gates) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.wait_for(gates.upload_first_chunk.wait(), 5)  # the app already has it
        yield b"second"

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.port}", headers={"host": HOST}) as c:
        response = await asyncio.wait_for(c.post("/upload", content=body()), 10)
    assert response.status_code == 200
    assert "".join(response.json()) == "firstsecond"


async def test_a_websocket_echoes_through_the_router(router: Router) -> None:
    # the URI names the app's host; host= says where the router listens
    uri = f"ws://{HOST}:{router.port}/ws"
    async with connect(uri, host="127.0.0.1", subprotocols=["echo.v1"], open_timeout=5, proxy=None) as ws:
        assert ws.subprotocol == "echo.v1"
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), 5) == "echo hello"
        await ws.send(b"\x01\x02\x03")
        assert await asyncio.wait_for(ws.recv(), 5) == b"\x03\x02\x01"


async def test_the_apps_close_code_and_reason_reach_the_client(router: Router) -> None:
    uri = f"ws://{HOST}:{router.port}/ws-goodbye"
    async with connect(uri, host="127.0.0.1", open_timeout=5, proxy=None) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4001
    assert ws.close_reason == "session over"
