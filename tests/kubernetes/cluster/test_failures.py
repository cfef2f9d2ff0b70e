"""Rollout failures made on purpose with kwok Stages: the reason is reported, production keeps serving."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client

from deployer.targets.kubernetes.render import namespace_for
from deployer.targets.kubernetes.rollout import RolloutFailed
from tests.kubernetes.cluster.conftest import CRASH_LOOP, PULL_FAILURE, image
from tests.kubernetes.conftest import STYLE


@pytest.mark.parametrize(
    ("bad_image", "reason"),
    [
        (
            PULL_FAILURE,
            r"ImagePullBackOff: pod production-\S+ cannot pull registry.invalid/autostack/pull-failure",
        ),
        (
            CRASH_LOOP,
            r"CrashLoopBackOff: container app of pod production-\S+ exited 1 and restarted 4 times\n"
            r"last 20 log lines:\nTraceback .*\n.*\n.*\nKeyError: 'DATABASE_URL'$",
        ),
    ],
)
async def test_failed_rollout_reports_why_and_the_previous_replicaset_keeps_serving(
    target, deployer, registry, project, bad_image, reason
):
    good = image(registry, project, 1)
    await deployer.deploy(project, "production", 1, good, replicas=2)
    with pytest.raises(RolloutFailed, match=reason):
        await deployer.deploy(project, "production", 2, bad_image, replicas=2)
    namespace = namespace_for(project, STYLE)
    pods = await asyncio.to_thread(
        client.CoreV1Api(target.cluster.api).list_namespaced_pod,
        namespace,
        label_selector="autostack.dev/deployment=1",
    )
    ready = [
        p
        for p in pods.items
        if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]
    assert len(ready) == 2
    assert all(p.spec.containers[0].image == good for p in ready)
