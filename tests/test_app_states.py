"""Live apps' stored states on both backends: what record() says was known, what the page,
`ls` and the sticky comment read back, and that a newer deployment's state hides an older one's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from deployer.app_state import CRASHED, LIVE, RESTARTING
from deployer.events import AppStateChanged
from deployer.live_state import LiveStates
from store import app_states
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from store.models import Deployment, Environment, Project

SINCE = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
async def backend_sessions(backend):
    engine = create_engine(backend.database_url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


async def _seed(sessions) -> tuple[int, int, int, int]:
    async with sessions.begin() as session:
        project = Project(name="shop")
        session.add(project)
        await session.flush()
        env = Environment(project_id=project.id, name="production", kind="production")
        session.add(env)
        await session.flush()
        old, new = (
            Deployment(project_id=project.id, environment_id=env.id, environment="production", trigger="push")
            for _ in range(2)
        )
        session.add_all([old, new])
        await session.flush()
        env.current_deployment_id = old.id
        return project.id, env.id, old.id, new.id


async def test_record_reads_back_and_says_what_was_known(backend_sessions):
    project_id, env_id, old, new = await _seed(backend_sessions)
    args = (backend_sessions, "shop", "production")
    assert await app_states.record(*args, old, RESTARTING, SINCE, "exited 3", ["boom"]) is None
    assert await app_states.record(*args, old, CRASHED, SINCE, "exited 4, twice", ["again"]) == RESTARTING
    status = await app_states.environment_status(backend_sessions, project_id, "production")
    assert status is not None and status.app is not None
    assert (status.app.state, status.app.since, status.app.reason) == (CRASHED, SINCE, "exited 4, twice")
    assert status.app.last_lines == ("again",)
    known = await app_states.current(backend_sessions, [env_id, env_id])
    assert list(known) == [env_id] and known[env_id].deployment_id == old

    # the next deployment went live: the old build's crash says nothing about it
    assert await app_states.record(*args, new, LIVE, SINCE, "", []) is None
    assert app_states.shown(known[env_id], new) is None
    assert await app_states.environment_status(backend_sessions, project_id, "pr-9") is None
    with pytest.raises(LookupError, match="no environment shop/pr-9"):
        await app_states.record(backend_sessions, "shop", "pr-9", new, LIVE, SINCE, "", [])


class Sink:
    def __init__(self) -> None:
        self.events: list[AppStateChanged] = []

    async def emit(self, event) -> None:
        self.events.append(event)


async def test_live_states_emit_only_news(backend_sessions):
    _, _, old, new = await _seed(backend_sessions)
    sink = Sink()
    live = LiveStates(backend_sessions, sink)

    def event(deployment: int, state: str) -> AppStateChanged:
        return AppStateChanged("shop", "production", deployment, state, SINCE, "", ())

    for deployment, state in [(old, LIVE), (old, RESTARTING), (old, LIVE), (new, LIVE), (new, CRASHED)]:
        await live.changed(event(deployment, state))
    # a first live is the pipeline's to report; a live after trouble is news
    assert [(e.deployment_id, e.state) for e in sink.events] == [
        (old, RESTARTING),
        (old, LIVE),
        (new, CRASHED),
    ]


async def test_two_workers_telling_the_same_crash_at_once_report_it_once(fresh_postgres_url):
    # PostgreSQL: deploy workers on a cluster each watch the pods (embedded runs one process)
    upgrade(fresh_postgres_url)
    engine = create_engine(fresh_postgres_url)
    try:
        sessions = sessionmaker(engine)
        _, _, old, _ = await _seed(sessions)
        sink = Sink()
        crash = AppStateChanged("shop", "production", old, CRASHED, SINCE, "exited 1", ("boom",))
        for _ in range(5):
            await LiveStates(sessions, sink).changed(AppStateChanged("shop", "production", old, LIVE, SINCE))
            workers = [LiveStates(sessions, sink) for _ in range(4)]
            await asyncio.gather(*(worker.changed(crash) for worker in workers))
        assert [e.state for e in sink.events] == [CRASHED, LIVE] * 4 + [CRASHED]
    finally:
        await engine.dispose()
