"""The JSON API's runtime logs: what an environment's app printed, as NDJSON (?follow=1 keeps
streaming), for `autostack logs ENV --runtime`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.web.api import PROJECT, api
from bot.web.context import ActionError, Viewer, owned_project, web_state
from bot.web.runtime_logs import QueryError, runtime_query, stream
from deployer.runtime_logs import RuntimeLogSource
from store.app_states import EnvironmentStatus, environment_status
from store.models import utcnow

NDJSON = "application/x-ndjson"


async def found_environment(request: Request, viewer: Viewer, whose: str) -> tuple[str, EnvironmentStatus]:
    """The project and environment of the path, in the viewer's team; ActionError 404 otherwise."""
    name, env = request.path_params["name"], request.path_params["env"]
    state = web_state(request)
    async with state.sessions() as session:
        project = await owned_project(session, viewer, name, whose)
    status = await environment_status(state.sessions, project.id, env)
    if status is None:
        raise ActionError(404, f"project {name!r} has no environment {env!r}")
    return project.name, status


def log_source(request: Request) -> RuntimeLogSource:
    """The target that keeps runtime logs; ActionError 503 when this server runs none that does."""
    service = web_state(request).deploy
    target = service.target if service is not None else None
    if not isinstance(target, RuntimeLogSource):
        raise ActionError(503, "this server's deploy target keeps no runtime logs")
    return target


async def runtime_logs(request: Request, viewer: Viewer) -> Response:
    """The environment's runtime log as NDJSON."""
    project, status = await found_environment(request, viewer, "this key's team")
    try:
        query = runtime_query(request.query_params, utcnow())
    except QueryError as exc:
        raise ActionError(400, str(exc)) from None
    return StreamingResponse(stream(log_source(request), project, status, query), media_type=NDJSON)


routes = [
    api(
        f"{PROJECT}/environments/{{env}}/logs",
        runtime_logs,
        "deployments.view",
        "GET",
        "An environment's runtime log as NDJSON (?follow=1, ?tail=N, ?since=10m, ?previous=1)",
    ),
]
