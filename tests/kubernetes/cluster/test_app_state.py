"""A live environment's pod, played into CrashLoopBackOff and back by patching its status on a
real API server: the pod watch stores the environment as crashed, with the previous
container's last lines (kwok serves them), and as live again once the pod is ready; the deploy
worker process runs that watch."""

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
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from store.models import Deployment, Environment, Project
from tests.conftest import _fresh_postgres_database
from tests.kubernetes.cluster.conftest import KUBECONFIG, SOURCES_BUCKET, image, wait_for_pod
from tests.kubernetes.conftest import STYLE
from tests.processes import autostack_env, running


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


def _crash_loop(ref: str, at: datetime) -> dict[str, Any]:
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "image": ref,
        "restartCount": 3,
        "started": False,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}},
        "lastState": {
            "terminated": {"exitCode": 1, "reason": "Error", "startedAt": stamp, "finishedAt": stamp}
        },
    }


async def _patch(
    api: client.ApiClient, namespace: str, pod: str, ready: bool, container: dict[str, Any]
) -> None:
    core = client.CoreV1Api(api)
    await asyncio.to_thread(core.patch_namespaced_pod_status, pod, namespace, _status(ready, container))


async def _deployed(sessions, target, deployer, registry, project) -> tuple[int, int, str, str]:
    """A live production of `project`: its ids, image and the name of its pod."""
    project_id, deployment_id = await _live_environment(sessions, project)
    good = image(registry, project, 1)
    await deployer.deploy(project, "production", deployment_id, good)
    namespace = namespace_for(project, STYLE)
    pod = await wait_for_pod(target.cluster.api, namespace, f"autostack.dev/deployment={deployment_id}")
    return project_id, deployment_id, good, pod.metadata.name


async def test_a_pod_patched_into_crash_loop_makes_the_environment_crashed(
    sessions, target, deployer, registry, project
):
    project_id, deployment_id, good, pod = await _deployed(sessions, target, deployer, registry, project)
    namespace = namespace_for(project, STYLE)
    sink = Sink()
    watcher = watch_target(target, sessions, LiveStates(sessions, sink).changed)
    watcher.resync = 0.5
    running = asyncio.create_task(watcher.run())
    try:
        await asyncio.sleep(1)  # listed and watching: a live app is no news
        assert sink.events == []
        crashed_at = datetime.now(UTC).replace(microsecond=0)
        await _patch(target.cluster.api, namespace, pod, False, _crash_loop(good, crashed_at))

        crashed = await _stored(sessions, project_id, CRASHED)
        assert crashed.reason == (
            f"pod {pod}: the app exited with code 1 and keeps crashing (CrashLoopBackOff, 3 restarts)"
        )
        assert crashed.since == crashed_at
        assert crashed.last_lines[-1] == "KeyError: 'DATABASE_URL'"  # the previous container's log

        ready = {
            "image": good,
            "restartCount": 4,
            "started": True,
            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
        }
        await _patch(target.cluster.api, namespace, pod, True, ready)
        await _stored(sessions, project_id, LIVE)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [(e.deployment_id, e.state) for e in sink.events] == [
        (deployment_id, CRASHED),
        (deployment_id, LIVE),
    ]


async def test_the_deploy_worker_process_watches_live_apps(
    tmp_path, pg_admin_url, redis_url_real, target, deployer, registry, project, s3_url
):
    database_url = _fresh_postgres_database(pg_admin_url)
    upgrade(database_url)
    engine = create_engine(database_url)
    sessions = sessionmaker(engine)
    try:
        project_id, _, good, pod = await _deployed(sessions, target, deployer, registry, project)
        env = autostack_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url_real,
            AUTOSTACK_DATA_DIR=str(tmp_path / "data"),
            AUTOSTACK_TARGET="kubernetes",
            KUBECONFIG=str(KUBECONFIG),
            AWS_REGION="eu-west-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            SOURCES_BUCKET=SOURCES_BUCKET,
            AWS_ENDPOINT_URL_S3=s3_url,  # moto, never AWS
            APPS_DOMAIN="apps.example.com",
            PREVIEW_DOMAIN="preview.example.com",
            WEBHOOK_SECRET="whsec",
            SECRET_KEY="k" * 32,
        )
        log = tmp_path / "worker.log"
        with running("worker", "--deploys", env=env, log=log):
            await asyncio.sleep(4)  # started, listed the pods, watching
            await _patch(
                target.cluster.api,
                namespace_for(project, STYLE),
                pod,
                False,
                _crash_loop(good, datetime.now(UTC)),
            )
            crashed = await _stored(sessions, project_id, CRASHED, seconds=40)
        assert "keeps crashing (CrashLoopBackOff, 3 restarts)" in crashed.reason
        assert f"{project}/production is crashed" in log.read_text()
    finally:
        await engine.dispose()
