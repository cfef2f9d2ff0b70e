"""The pod watch against a recording CoreV1Api: a live app's pod crashes, loops in
CrashLoopBackOff and is ready again; the stored states and the events told are those a user
sees (once each), the watch resumes from its resourceVersion and lists again after a 410."""

from __future__ import annotations

import asyncio
import json
import queue
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from deployer.app_state import CRASHED, LIVE, RESTARTING
from deployer.events import AppStateChanged
from deployer.live_state import LiveStates
from deployer.targets.kubernetes.pod_watch import SELECTOR, PodStates
from store import app_states
from store.db import create_engine, sessionmaker
from store.models import Deployment, Environment, Project

SECRET = "s3cr3t-pa55word-9f2c"
FIRST_CRASH = "2026-12-02T10:04:30Z"


@pytest.fixture
async def backend_sessions(backend):
    engine = create_engine(backend.database_url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


class Stream:
    """A watch response: the events the test sends, until it ends the stream or it is shut."""

    def __init__(self) -> None:
        self.events: queue.Queue[bytes | None] = queue.Queue()

    def __iter__(self):
        while (raw := self.events.get(timeout=30)) is not None:
            yield raw

    def shutdown(self) -> None:
        self.events.put(None)

    def close(self) -> None:
        pass


class Core:
    """Records the list, watch and log calls; the test plays the API server's answers."""

    def __init__(self, pods: list[dict[str, Any]]) -> None:
        self.pods, self.version = pods, 100
        self.lists: list[str] = []
        self.watches: list[str] = []
        self.streams: queue.Queue[Stream] = queue.Queue()
        self.logs: list[tuple[str, bool]] = []

    def list_pod_for_all_namespaces(self, label_selector: str, watch: bool = False, **kwargs: Any) -> Any:
        if not watch:
            self.lists.append(label_selector)
            body = {"metadata": {"resourceVersion": str(self.version)}, "items": self.pods}
            return SimpleNamespace(data=json.dumps(body).encode())
        self.watches.append(kwargs["resource_version"])
        stream = Stream()
        self.streams.put(stream)
        return stream

    def read_namespaced_pod_log(self, name: str, namespace: str, **kwargs: Any) -> Any:
        self.logs.append((name, kwargs["previous"]))
        if kwargs["previous"]:
            text = f"Traceback (most recent call last):\nconnecting to postgres://app:{SECRET}@db\nKeyError: 'X'\n"
        else:
            text = "starting\n"
        return SimpleNamespace(data=text.encode())


def pod(deployment: int, container: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"production-{deployment}-abcde",
            "namespace": "autostack-shop",
            "resourceVersion": str(version),
            "labels": {
                "app.kubernetes.io/managed-by": "autostack",
                "autostack.dev/project": "shop",
                "autostack.dev/environment": "production",
                "autostack.dev/deployment": str(deployment),
            },
        },
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", **container}]},
    }


READY = {"ready": True, "started": True, "restartCount": 0, "state": {"running": {"startedAt": FIRST_CRASH}}}
EXITED = {
    "ready": False,
    "restartCount": 0,
    "state": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": FIRST_CRASH}},
}
LOOPING = {
    "ready": False,
    "restartCount": 2,
    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-12-02T10:05:10Z"}},
}
READY_AGAIN = {
    "ready": True,
    "started": True,
    "restartCount": 3,
    "state": {"running": {"startedAt": FIRST_CRASH}},
}


class Sink:
    def __init__(self) -> None:
        self.events: list[AppStateChanged] = []

    async def emit(self, event: Any) -> None:
        self.events.append(event)


async def _seed(sessions) -> tuple[int, int]:
    async with sessions.begin() as session:
        project = Project(name="shop")
        session.add(project)
        await session.flush()
        env = Environment(project_id=project.id, name="production", kind="production")
        session.add(env)
        await session.flush()
        live, failed = (
            Deployment(project_id=project.id, environment_id=env.id, environment="production", trigger="push")
            for _ in range(2)
        )
        session.add_all([live, failed])
        await session.flush()
        env.current_deployment_id = live.id
        return project.id, live.id


async def _stored(sessions, project_id: int, state: str) -> app_states.KnownState:
    for _ in range(100):
        status = await app_states.environment_status(sessions, project_id, "production")
        if status is not None and status.app is not None and status.app.state == state:
            return status.app
        await asyncio.sleep(0.05)
    raise AssertionError(f"production never became {state}: {status}")


async def _stream(core: Core) -> Stream:
    return await asyncio.to_thread(core.streams.get, True, 10)


def _event(kind: str, body: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": body}).encode() + b"\n"


async def test_a_pod_crashes_loops_and_recovers(backend_sessions):
    project_id, live = await _seed(backend_sessions)
    failed = live + 1
    # the failed rollout's pod loops too, but the previous build serves: it says nothing
    core = Core([pod(live, READY, 90), pod(failed, LOOPING, 91)])
    sink = Sink()

    async def secrets(asked: int) -> list[str]:
        assert asked == project_id
        return [SECRET]

    watcher = PodStates(
        core, backend_sessions, LiveStates(backend_sessions, sink).changed, secrets, resync=0.1
    )
    running = asyncio.create_task(watcher.run())
    try:
        stream = await _stream(core)
        assert core.lists == [SELECTOR] and core.watches == ["100"]
        await asyncio.sleep(0.3)  # a few resyncs: nothing to tell
        assert sink.events == []

        stream.events.put(_event("MODIFIED", pod(live, EXITED, 101)))
        restarting = await _stored(backend_sessions, project_id, RESTARTING)
        assert restarting.since == datetime(2026, 12, 2, 10, 4, 30, tzinfo=UTC)
        assert (
            restarting.reason
            == f"pod production-{live}-abcde: the app exited with code 1; Kubernetes restarts it"
        )
        assert restarting.last_lines == ("starting",)

        stream.events.put(None)  # the API server ends the watch: the next resumes where it was
        stream = await _stream(core)
        assert core.watches == ["100", "101"]

        stream.events.put(_event("MODIFIED", pod(live, LOOPING, 102)))
        crashed = await _stored(backend_sessions, project_id, CRASHED)
        assert crashed.since == restarting.since  # the loop started with the first crash
        assert "exited with code 1 and keeps crashing (CrashLoopBackOff, 2 restarts)" in crashed.reason
        assert crashed.last_lines == (
            "Traceback (most recent call last):",
            "connecting to postgres://app:•••@db",
            "KeyError: 'X'",
        )
        assert core.logs[-1] == (f"production-{live}-abcde", True)  # the crashed container's log

        core.pods, core.version = [pod(live, READY_AGAIN, 150)], 150
        stream.events.put(
            _event("ERROR", {"kind": "Status", "code": 410, "message": "too old resource version"})
        )
        await _stored(backend_sessions, project_id, LIVE)
        stream = await _stream(core)
        assert len(core.lists) == 2 and core.watches[-1] == "150"
        await asyncio.sleep(0.3)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    assert [(e.deployment_id, e.state) for e in sink.events] == [
        (live, RESTARTING),
        (live, CRASHED),
        (live, LIVE),
    ]
    assert all(SECRET not in line for e in sink.events for line in (e.reason, *e.last_lines))
