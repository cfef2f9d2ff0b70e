"""The environment's Runtime tab: its live app's state (crashed, restarting, unhealthy, with the
last lines and since when) and what the app prints, followed live over Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.web.context import ActionError, Viewer, page, refuse, render, web_state
from bot.web.runtime_logs import environment_event, found_environment, log_source, project_masker, stream
from deployer.app_state import TROUBLED
from deployer.runtime_logs import RuntimeQuery
from store.app_states import EnvironmentStatus
from store.live_apps import Sessions, status_by_id

PAGE_TAIL = 500
# how often an open Runtime tab reads the app's state again; the watcher that changes it may
# run in another process (a deploy worker on a cluster), so the store is what is shared
STATE_POLL_SECONDS = 1.0


async def runtime_page(request: Request, viewer: Viewer) -> Response:
    """The app's state and its last lines; the page script follows the rest."""
    try:
        project, status = await found_environment(request, viewer, "your team")
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    return render(
        request,
        "runtime.html",
        viewer,
        project=project,
        environment=status,
        troubled=status.app is not None and status.app.state in TROUBLED,
    )


async def _sse(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for raw in lines:
        kind = orjson.loads(raw)["type"]
        yield b"event: " + kind.encode() + b"\ndata: " + raw.rstrip(b"\n") + b"\n\n"


async def state_changes(
    sessions: Sessions, project: str, first: EnvironmentStatus, every: float = STATE_POLL_SECONDS
) -> AsyncIterator[bytes]:
    """An `environment` line each time the app's state differs from the one last sent."""
    sent = environment_event(project, first)
    while True:
        await asyncio.sleep(every)
        status = await status_by_id(sessions, first.environment_id)
        if status is None:
            return
        now = environment_event(project, status)
        if now != sent:
            sent = now
            yield now


async def merged(lines: AsyncIterator[bytes], states: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The log stream's lines and the state changes as they come; done when the log is."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def pump(source: AsyncIterator[bytes], last: bool) -> None:
        try:
            async for raw in source:
                await queue.put(raw)
        finally:
            if last:
                queue.put_nowait(None)

    tasks = [asyncio.create_task(pump(lines, True)), asyncio.create_task(pump(states, False))]
    try:
        while (raw := await queue.get()) is not None:
            yield raw
        await tasks[0]  # what ended the log, if it failed
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def runtime_events(request: Request, viewer: Viewer) -> Response:
    """The runtime log as Server-Sent Events: the last lines, then each new one as it comes,
    and the app's state again whenever it changes."""
    try:
        project, status = await found_environment(request, viewer, "your team")
        source = log_source(request)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    query = RuntimeQuery(tail=PAGE_TAIL, follow=True)
    states = state_changes(web_state(request).sessions, project, status)
    return StreamingResponse(
        _sse(merged(stream(source, project, status, query, await project_masker(request, project)), states)),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


_ENV = "/projects/{name}/environments/{env}"
routes = [
    page(f"{_ENV}/runtime", runtime_page, "deployments.view"),
    page(f"{_ENV}/runtime/events", runtime_events, "deployments.view"),
]
