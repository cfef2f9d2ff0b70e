"""The environment's Runtime tab: its live app's state (crashed, restarting, unhealthy, with the
last lines and since when) and what the app prints, followed live over Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.web.context import ActionError, Viewer, page, refuse, render
from bot.web.runtime_logs import found_environment, log_source, stream
from deployer.app_state import TROUBLED
from deployer.runtime_logs import RuntimeQuery

PAGE_TAIL = 500


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


async def runtime_events(request: Request, viewer: Viewer) -> Response:
    """The runtime log as Server-Sent Events: the last lines, then each new one as it comes."""
    try:
        project, status = await found_environment(request, viewer, "your team")
        source = log_source(request)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    query = RuntimeQuery(tail=PAGE_TAIL, follow=True)
    return StreamingResponse(
        _sse(stream(source, project, status, query)),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


_ENV = "/projects/{name}/environments/{env}"
routes = [
    page(f"{_ENV}/runtime", runtime_page, "deployments.view"),
    page(f"{_ENV}/runtime/events", runtime_events, "deployments.view"),
]
