"""An environment's runtime log as NDJSON, shared by the API route and the page's event stream:
the environment's app state first, then the lines its target hands back (already masked)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request

from bot.web.context import ActionError, Viewer, owned_project, web_state
from deployer.app_state import LIVE
from deployer.envvars import project_secrets
from deployer.masking import Masker
from deployer.runtime_logs import DEFAULT_TAIL, MAX_TAIL, RuntimeLogSource, RuntimeQuery
from store.app_states import EnvironmentStatus, environment_status
from store.db import reading
from store.projects import project_id_of

_AGO = re.compile(r"^(\d+)(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_YES, _NO = ("1", "true", "yes"), ("", "0", "false", "no")


class QueryError(ValueError):
    """A query parameter the runtime log cannot use; the message names it."""


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "").lower()
    if value not in _YES + _NO:
        raise QueryError(f"{name}={value!r} is not a yes/no value; use {name}=1 or {name}=0")
    return value in _YES


def _number(params: Mapping[str, str], name: str, default: int | None, top: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > top:
        raise QueryError(f"{name}={raw!r} is not a whole number from 0 to {top}")
    return int(raw)


def _since(raw: str | None, now: datetime) -> datetime | None:
    if not raw:
        return None
    if match := _AGO.match(raw):
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"since={raw!r} is neither a time (2026-12-02T10:00:00Z) nor an age (30s, 10m, 2h, 1d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def runtime_query(params: Mapping[str, str], now: datetime) -> RuntimeQuery:
    """The query from ?tail=N&after=SEQ&since=10m&follow=1&previous=1; QueryError names a bad one."""
    tail = _number(params, "tail", DEFAULT_TAIL, MAX_TAIL)
    return RuntimeQuery(
        tail=DEFAULT_TAIL if tail is None else tail,
        after=_number(params, "after", None, 2**62),
        since=_since(params.get("since"), now),
        follow=_flag(params, "follow"),
        previous=_flag(params, "previous"),
    )


def _line(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, **fields}) + b"\n"


def environment_event(project: str, status: EnvironmentStatus) -> bytes:
    """The stream's first line: which environment, its live build and that app's state."""
    app = status.app
    return _line(
        "environment",
        project=project,
        environment=status.name,
        deployment=status.current_deployment_id,
        state=status.state if status.state == "destroyed" else (app.state if app else LIVE),
        since=app.since.isoformat() if app else None,
        reason=app.reason if app else None,
        last_lines=list(app.last_lines) if app and app.state != LIVE else [],
    )


async def stream(
    source: RuntimeLogSource,
    project: str,
    status: EnvironmentStatus,
    query: RuntimeQuery,
    masker: Masker | None = None,
) -> AsyncIterator[bytes]:
    """NDJSON: the environment, its lines (as they come with `follow`), then `end` unless following.
    Every line is masked with the project's secrets here, whatever the target kept (pod logs are
    the app's raw output)."""
    masker = masker or Masker()
    yield environment_event(project, status)
    async for line in source.runtime_log(project, status.name, query):
        text = masker.mask(line.text)
        yield _line("log", seq=line.seq, at=line.at.isoformat(), text=text, source=line.source)
    yield _line("end")


async def found_environment(request: Request, viewer: Viewer, whose: str) -> tuple[str, EnvironmentStatus]:
    """The project and environment of the path, in the viewer's team; ActionError 404 otherwise."""
    name, env = request.path_params["name"], request.path_params["env"]
    state = web_state(request)
    async with reading(state.sessions) as tx:
        project = await owned_project(tx, viewer, name, whose)
    status = await environment_status(state.sessions, project.id, env)
    if status is None:
        raise ActionError(404, f"project {name!r} has no environment {env!r}")
    return project.name, status


async def project_masker(request: Request, project: str) -> Masker:
    """A masker of every secret value of the project (any scope)."""
    state = web_state(request)
    project_id = await project_id_of(state.sessions, project)
    if project_id is None:
        return Masker()
    return Masker(await project_secrets(state.sessions, state.keyring, project_id))


def log_source(request: Request) -> RuntimeLogSource:
    """The target that keeps runtime logs; ActionError 503 when this server runs none that does."""
    service = web_state(request).deploy
    target = service.target if service is not None else None
    if not isinstance(target, RuntimeLogSource):
        raise ActionError(503, "this server's deploy target keeps no runtime logs")
    return target
