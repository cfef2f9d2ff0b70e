"""The JSON API's runtime logs: what an environment's app printed, as NDJSON (?follow=1 keeps
streaming), for `autostack logs ENV --runtime`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.api.routes import PROJECT, api
from bot.web.context import ActionError, Viewer
from bot.web.runtime_logs import (
    QueryError,
    found_environment,
    log_source,
    project_masker,
    runtime_query,
    stream,
)
from store.models import utcnow

NDJSON = "application/x-ndjson"


async def runtime_logs(request: Request, viewer: Viewer) -> Response:
    """The environment's runtime log as NDJSON."""
    project, status = await found_environment(request, viewer, "this key's team")
    try:
        query = runtime_query(request.query_params, utcnow())
    except QueryError as exc:
        raise ActionError(400, str(exc)) from None
    masker = await project_masker(request, project)
    return StreamingResponse(stream(log_source(request), project, status, query, masker), media_type=NDJSON)


routes = [
    api(
        f"{PROJECT}/environments/{{env}}/logs",
        runtime_logs,
        "deployments.view",
        "GET",
        "An environment's runtime log as NDJSON (?follow=1, ?tail=N, ?since=10m, ?previous=1)",
    ),
]
