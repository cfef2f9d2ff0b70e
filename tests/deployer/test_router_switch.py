"""The router's side of a switch: a replaced upstream is drained, its connections closed, and a
request it dropped unanswered goes to the new one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from deployer.targets.local.router import Router

HOST = "demo.localhost"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def listen(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def answering(text: str, delay: float = 0.0, closed: asyncio.Event | None = None) -> Handler:
    """A keep-alive HTTP/1.1 app answering every request with `text` after `delay` seconds."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(delay)
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(text)}\r\n\r\n{text}".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            if closed is not None:
                closed.set()
        finally:
            writer.close()

    return handle


@pytest.fixture
async def router() -> AsyncIterator[Router]:
    router = Router()
    await router.start("127.0.0.1", 0)
    yield router
    await router.stop()


def client(router: Router) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{router.port}", headers={"host": HOST}, timeout=10)


async def test_a_request_the_replaced_app_dropped_is_answered_by_the_new_one(router: Router) -> None:
    new_server, new_address = await listen(answering("new"))

    async def dying(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the switch lands while this request is on its way; the old process closes unanswered
        router.route(HOST, new_address)
        writer.close()

    old_server, old_address = await listen(dying)
    router.route(HOST, old_address)
    async with new_server, old_server, client(router) as c:
        response = await c.get("/")
    assert (response.status_code, response.text) == (200, "new")


async def test_a_request_with_a_body_is_not_sent_twice(router: Router) -> None:
    new_server, new_address = await listen(answering("new"))
    seen: list[bytes] = []

    async def dying(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        router.route(HOST, new_address)
        writer.close()

    old_server, old_address = await listen(dying)
    router.route(HOST, old_address)
    async with new_server, old_server, client(router) as c:
        response = await c.post("/orders", content=b"one order")
    # the old app may have taken the order: only the client can decide to send it again
    assert response.status_code == 502
    assert len(seen) == 1


async def test_retire_waits_for_requests_in_flight_then_closes_connections(router: Router) -> None:
    closed = asyncio.Event()
    old_server, old_address = await listen(answering("old", delay=1.0, closed=closed))
    new_server, new_address = await listen(answering("new"))
    router.route(HOST, old_address)
    async with old_server, new_server, client(router) as c:
        slow = asyncio.create_task(c.get("/slow"))
        await asyncio.sleep(0.3)
        replaced = router.route(HOST, new_address)
        assert replaced is not None
        assert (await c.get("/")).text == "new"
        started = asyncio.get_running_loop().time()
        assert await router.retire(replaced, limit_seconds=10) is True
        assert asyncio.get_running_loop().time() - started > 0.5  # it waited for the slow answer
        answer = await slow
        assert (answer.status_code, answer.text) == (200, "old")
        # the retired app's kept-alive connection is closed, not left for a later request
        await asyncio.wait_for(closed.wait(), 2)


async def test_retire_gives_up_at_the_drain_limit(router: Router) -> None:
    old_server, old_address = await listen(answering("old", delay=1.5))
    new_server, new_address = await listen(answering("new"))
    router.route(HOST, old_address)
    async with old_server, new_server, client(router) as c:
        slow = asyncio.create_task(c.get("/slow"))
        await asyncio.sleep(0.3)
        replaced = router.route(HOST, new_address)
        assert replaced is not None
        started = asyncio.get_running_loop().time()
        assert await router.retire(replaced, limit_seconds=0.5) is False
        assert asyncio.get_running_loop().time() - started < 2
        # cut off unanswered, the GET is idempotent and goes once to the new app
        answer = await slow
        assert (answer.status_code, answer.text) == (200, "new")
        await asyncio.sleep(1.5)  # the old app's handler finishes before its server goes
