"""Pod statuses as the API server reports them (kubectl get pod -o json) become app states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deployer.app_state import CRASHED, LIVE, RESTARTING, UNHEALTHY, AppHealth
from deployer.targets.kubernetes.pod_state import STARTING, PodVerdict, classify, fold, judge

NOW = datetime(2026, 12, 2, 10, 5, tzinfo=UTC)
EARLIER = "2026-12-02T10:00:00Z"
CRASH = "2026-12-02T10:04:30Z"
RECENT = "2026-12-02T10:04:58Z"  # 2 s before NOW: within the readiness grace


def pod(container: dict[str, Any] | None, phase: str = "Running", **meta: Any) -> dict[str, Any]:
    """An app pod of production with one `app` container (256Mi limit, readiness on /healthz)."""
    return {
        "metadata": {"name": "production-7d9f-x2k4q", "namespace": "autostack-shop", **meta},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "resources": {"limits": {"memory": "256Mi", "cpu": "1"}},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                }
            ]
        },
        "status": {
            "phase": phase,
            "conditions": [
                {"type": "Ready", "status": "False", "lastTransitionTime": "2026-12-02T10:04:40Z"}
            ],
            "containerStatuses": [] if container is None else [{"name": "app", **container}],
        },
    }


def terminated(reason: str, code: int, finished: str = CRASH, message: str | None = None) -> dict[str, Any]:
    ended = {"exitCode": code, "reason": reason, "startedAt": EARLIER, "finishedAt": finished}
    return {"terminated": ended | ({"message": message} if message else {})}


RUNNING = {"running": {"startedAt": EARLIER}}
OOM = terminated("OOMKilled", 137)
ERROR = terminated("Error", 1)

CASES = [
    pytest.param(
        pod({"ready": True, "started": True, "restartCount": 0, "state": RUNNING}),
        (LIVE, "", False),
        id="running and ready",
    ),
    pytest.param(
        pod({"ready": True, "started": True, "restartCount": 3, "state": RUNNING, "lastState": ERROR}),
        (LIVE, "", False),
        id="ready again after restarts",
    ),
    pytest.param(
        pod(
            {
                "ready": False,
                "started": False,
                "restartCount": 1,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting"}},
                "lastState": OOM,
            }
        ),
        (
            CRASHED,
            "the app ran out of memory and was killed (OOMKilled, limit 256Mi) and keeps crashing "
            "(CrashLoopBackOff, 1 restarts)",
            True,
        ),
        id="CrashLoopBackOff after OOMKilled",
    ),
    pytest.param(
        pod(
            {
                "ready": False,
                "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": ERROR,
            }
        ),
        (CRASHED, "the app exited with code 1 and keeps crashing (CrashLoopBackOff, 5 restarts)", True),
        id="CrashLoopBackOff after exit 1",
    ),
    pytest.param(
        pod({"ready": False, "restartCount": 0, "state": terminated("Error", 3)}),
        (RESTARTING, "the app exited with code 3; Kubernetes restarts it", False),
        id="just exited, not restarted yet",
    ),
    pytest.param(
        pod({"ready": False, "restartCount": 0, "state": terminated("Error", 143)}),
        (RESTARTING, "the app was killed by signal 15 (exit code 143); Kubernetes restarts it", False),
        id="killed by SIGTERM",
    ),
    pytest.param(
        pod(
            {
                "ready": False,
                "started": False,
                "restartCount": 1,
                "state": {"running": {"startedAt": RECENT}},
                "lastState": OOM,
            }
        ),
        (
            RESTARTING,
            "the app ran out of memory and was killed (OOMKilled, limit 256Mi); Kubernetes restarts it",
            True,
        ),
        id="running again after OOMKilled, startup probe pending",
    ),
    pytest.param(
        pod(
            {
                "ready": False,
                "restartCount": 1,
                "state": {"waiting": {"reason": "ContainerCreating"}},
                "lastState": terminated("ContainerCannotRun", 128, message='exec: "gunicorn": not found'),
            }
        ),
        (
            RESTARTING,
            'the app exited with code 128: exec: "gunicorn": not found; Kubernetes restarts it',
            True,
        ),
        id="being created again after it could not run",
    ),
    pytest.param(
        pod({"ready": False, "started": True, "restartCount": 0, "state": RUNNING}),
        (UNHEALTHY, "the app runs but fails its readiness check (GET /healthz)", False),
        id="running, started, not ready, never restarted",
    ),
    pytest.param(
        pod(
            {"ready": False, "started": True, "restartCount": 0, "state": {"running": {"startedAt": RECENT}}}
        ),
        (STARTING, "", False),
        id="started 2 s ago, readiness not probed yet",
    ),
    pytest.param(
        pod({"ready": False, "started": False, "restartCount": 0, "state": RUNNING}),
        (STARTING, "", False),
        id="startup probe still pending",
    ),
    pytest.param(
        pod(
            {
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
            }
        ),
        (CRASHED, "the app cannot be started: ImagePullBackOff: Back-off pulling image", False),
        id="image cannot be pulled on a new node",
    ),
    pytest.param(pod(None, phase="Pending"), (STARTING, "", False), id="pending, not scheduled yet"),
]


@pytest.mark.parametrize(("status", "expected"), CASES)
def test_a_pod_status_becomes_an_app_state(status, expected):
    verdict = classify(status, NOW)

    assert verdict is not None
    assert (verdict.state, verdict.reason, verdict.previous) == expected
    assert (verdict.pod, verdict.namespace) == ("production-7d9f-x2k4q", "autostack-shop")


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(
            pod(
                {"ready": False, "restartCount": 2, "state": terminated("Error", 1)}, deletionTimestamp=CRASH
            ),
            id="being deleted (a rollout replaces it)",
        ),
        pytest.param(pod(None, phase="Failed"), id="evicted"),
        pytest.param(
            pod({"restartCount": 0, "state": terminated("Completed", 0)}, phase="Succeeded"), id="done"
        ),
    ],
)
def test_pods_on_their_way_out_say_nothing(status):
    assert classify(status, NOW) is None


@pytest.mark.parametrize(
    ("status", "since"),
    [
        (
            pod(
                {"restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": ERROR}
            ),
            CRASH,
        ),
        (pod({"restartCount": 0, "state": terminated("Error", 1, finished=RECENT)}), RECENT),
        (pod({"ready": False, "started": True, "restartCount": 0, "state": RUNNING}), "2026-12-02T10:04:40Z"),
    ],
)
def test_the_trouble_starts_when_the_pod_says_it_did(status, since):
    verdict = classify(status, NOW)

    assert verdict is not None
    assert verdict.since == datetime.fromisoformat(since)


def v(name: str, state: str, since_minutes: int = 0, reason: str = "why") -> PodVerdict:
    return PodVerdict(name, state, NOW - timedelta(minutes=since_minutes), reason if state != LIVE else "")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([v("a", LIVE), v("b", LIVE)], (LIVE, "")),
        ([v("a", LIVE), v("b", STARTING)], (LIVE, "")),  # a scale-up: one pod serves
        ([v("a", STARTING)], (RESTARTING, "pod a: the app is starting")),  # none serves
        ([v("a", LIVE), v("b", CRASHED, 3, "exit 1")], (CRASHED, "pod b: exit 1 (1 of 2 pods)")),
        (
            [
                v("a", RESTARTING, 1, "r"),
                v("b", UNHEALTHY, 9, "u"),
                v("c", CRASHED, 2, "c1"),
                v("d", CRASHED, 5, "c2"),
            ],
            (CRASHED, "pod d: c2 (2 of 4 pods)"),  # the worst state, the pod in it longest
        ),
        ([v("a", UNHEALTHY, 1, "u")], (UNHEALTHY, "pod a: u")),
    ],
)
def test_the_environment_takes_its_worst_pod(verdicts, expected):
    health = judge(verdicts, NOW)

    assert health is not None
    assert (health.state, health.reason) == expected


def test_no_pods_judged_is_no_news():
    assert judge([], NOW) is None


T0, T1, T2 = NOW - timedelta(minutes=9), NOW - timedelta(minutes=5), NOW - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("before", "judged", "expected"),
    [
        (AppHealth(LIVE, T0), AppHealth(RESTARTING, T1, "r"), AppHealth(RESTARTING, T1, "r")),
        # a restart loop started with the first crash
        (AppHealth(RESTARTING, T1, "r"), AppHealth(CRASHED, T2, "c"), AppHealth(CRASHED, T1, "c")),
        # between two crashes of a loop its pod restarts: still crashed, nothing new
        (AppHealth(CRASHED, T1, "c"), AppHealth(RESTARTING, T2, "r"), AppHealth(CRASHED, T1, "c")),
        (AppHealth(CRASHED, T1, "c"), AppHealth(UNHEALTHY, T2, "u"), AppHealth(UNHEALTHY, T1, "u")),
        (AppHealth(CRASHED, T1, "c"), AppHealth(LIVE, T2), AppHealth(LIVE, T2)),
        (AppHealth(LIVE, T0), AppHealth(LIVE, T2), AppHealth(LIVE, T0)),
        (AppHealth(CRASHED, T1, "c"), None, AppHealth(CRASHED, T1, "c")),
    ],
)
def test_fold_keeps_when_trouble_started(before, judged, expected):
    assert fold(before, judged) == expected
