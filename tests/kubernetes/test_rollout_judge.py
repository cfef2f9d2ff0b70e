"""The rollout verdict from Deployment and pod status (pure, table-driven)."""

from __future__ import annotations

import pytest

from deployer.targets.kubernetes.rollout import judge


def _deployment(generation=2, observed=2, replicas=2, updated=2, available=2, total=2, conditions=()):
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "replicas": total,
            "conditions": list(conditions),
        },
    }


def _pod(waiting=None, restarts=0, exit_code=None, unschedulable=False):
    container = {"name": "app", "image": "repo@sha256:" + "e" * 64, "restartCount": restarts, "state": {}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting}}
    if exit_code is not None:
        container["lastState"] = {"terminated": {"exitCode": exit_code}}
    conditions = (
        [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes: Insufficient cpu",
            }
        ]
        if unschedulable
        else []
    )
    return {
        "metadata": {"name": "web-abc"},
        "status": {"containerStatuses": [container], "conditions": conditions},
    }


@pytest.mark.parametrize(
    ("deployment", "pods", "state", "reason"),
    [
        (_deployment(), [_pod()], "done", ""),
        (_deployment(observed=1), [], "progressing", "has not seen the new spec"),
        (_deployment(updated=1, available=1), [], "progressing", "1/2 updated"),
        (_deployment(total=3), [], "progressing", "2/2 updated"),  # old pods still terminating
        (_deployment(available=1), [], "progressing", "1 available"),
        (
            _deployment(),
            [_pod(waiting="ImagePullBackOff")],
            "failed",
            "ImagePullBackOff: pod web-abc cannot pull repo@sha256:",
        ),
        (_deployment(), [_pod(waiting="ErrImagePull")], "failed", "ErrImagePull"),
        (
            _deployment(),
            [_pod(waiting="CrashLoopBackOff", restarts=3, exit_code=1)],
            "failed",
            "exited 1 and restarted 3 times",
        ),
        (_deployment(), [_pod(unschedulable=True)], "failed", "unschedulable: 0/1 nodes: Insufficient cpu"),
        (
            _deployment(
                available=0,
                conditions=[
                    {
                        "type": "Progressing",
                        "reason": "ProgressDeadlineExceeded",
                        "message": "ReplicaSet web-1 has timed out progressing.",
                    }
                ],
            ),
            [],
            "failed",
            "rollout timed out: ReplicaSet web-1 has timed out",
        ),
    ],
)
def test_judge(deployment, pods, state, reason):
    verdict = judge(deployment, pods)
    assert verdict.state == state
    assert reason in verdict.reason


def test_crash_loop_names_the_pod_for_its_logs():
    assert judge(_deployment(), [_pod(waiting="CrashLoopBackOff")]).crashed_pod == "web-abc"
