"""A live environment's pod, played into CrashLoopBackOff and back by patching its status on a
real API server: the pod watch stores the environment as crashed, with the previous
container's last lines (kwok serves them), and as live again once the pod is ready."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from deployer.app_state import CRASHED, LIVE
from deployer.events import AppStateChanged
from deployer.live_state import LiveStates
from deployer.targets.kubernetes.pod_watch import watch_target
from deployer.targets.kubernetes.render import namespace_for
from store import app_states
from store.models import Deployment, Environment, Project
from tests.kubernetes.cluster.conftest import image, wait_for_pod
from tests.kubernetes.conftest import STYLE


class Sink:
    def __init__(self) -> None:
        self.events: list[AppStateChanged] = []

    async def emit(self, event: Any) -> None:
        self.events.append(event)


async def _live_environment(sessions, project: str) -> tuple[int, int]:
    async with sessions.begin() as session:
        row = Project(name=project)
        session.add(row)
        await session.flush()
        env = Environment(project_id=row.id, name="production", kind="production")
        session.add(env)
        await session.flush()
        deployment = Deployment(
            project_id=row.id, environment_id=env.id, environment="production", trigger="push"
        )
        session.add(deployment)
        await session.flush()
        env.current_deployment_id = deployment.id
        return row.id, deployment.id


def _status(ready: bool, container: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    flag = "True" if ready else "False"
    return {
        "status": {
            "conditions": [
                {"type": "Ready", "status": flag, "lastTransitionTime": now},
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            ],
            "containerStatuses": [{"name": "app", "ready": ready, **container}],
        }
    }


async def _stored(sessions, project_id: int, state: str, seconds: float = 30) -> app_states.KnownState:
    status = None
    for _ in range(int(seconds * 10)):
        status = await app_states.environment_status(sessions, project_id, "production")
        if status is not None and status.app is not None and status.app.state == state:
            return status.app
        await asyncio.sleep(0.1)
    raise AssertionError(f"production never became {state}: {status}")


async def test_a_pod_patched_into_crash_loop_makes_the_environment_crashed(
    sessions, target, deployer, registry, project
):
    project_id, deployment_id = await _live_environment(sessions, project)
    good = image(registry, project, 1)
    await deployer.deploy(project, "production", deployment_id, good)
    namespace = namespace_for(project, STYLE)
    pod = await wait_for_pod(target.cluster.api, namespace, f"autostack.dev/deployment={deployment_id}")
    core = client.CoreV1Api(target.cluster.api)
    sink = Sink()
    watcher = watch_target(target, sessions, LiveStates(sessions, sink).changed)
    watcher.resync = 0.5
    running = asyncio.create_task(watcher.run())
    try:
        await asyncio.sleep(1)  # listed and watching: a live app is no news
        assert sink.events == []
        crashed_at = datetime.now(UTC).replace(microsecond=0)
        loop = {
            "image": good,
            "restartCount": 3,
            "started": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}},
            "lastState": {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": crashed_at.isoformat().replace("+00:00", "Z"),
                    "finishedAt": crashed_at.isoformat().replace("+00:00", "Z"),
                }
            },
        }
        await asyncio.to_thread(
            core.patch_namespaced_pod_status, pod.metadata.name, namespace, _status(False, loop)
        )

        crashed = await _stored(sessions, project_id, CRASHED)
        assert crashed.reason == (
            f"pod {pod.metadata.name}: the app exited with code 1 and keeps crashing (CrashLoopBackOff, 3 restarts)"
        )
        assert crashed.since == crashed_at
        assert crashed.last_lines[-1] == "KeyError: 'DATABASE_URL'"  # the previous container's log

        ready = {
            "image": good,
            "restartCount": 4,
            "started": True,
            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
        }
        await asyncio.to_thread(
            core.patch_namespaced_pod_status, pod.metadata.name, namespace, _status(True, ready)
        )
        await _stored(sessions, project_id, LIVE)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [(e.deployment_id, e.state) for e in sink.events] == [
        (deployment_id, CRASHED),
        (deployment_id, LIVE),
    ]
