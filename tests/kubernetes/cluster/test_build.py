"""The in-cluster build Job: its digest is the result the build pod reports, and it can be cancelled.

kwok cannot run BuildKit. The build pod's outcome is played by kwok once the test annotates the
pod (cluster/kwok-stages.yaml): everything around it (Job, registry Secret, reading the digest
from the termination message, cancelling) is real.
"""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client

from deployer.targets.base import Site, TargetError
from deployer.targets.kubernetes.render import namespace_for
from tests.kubernetes.cluster.conftest import finish_build, wait_for_pod
from tests.kubernetes.conftest import EXAMPLES, STYLE, example_plan

DIGEST = "sha256:" + "d" * 64


async def _phase(_name):
    return None


async def test_build_job_result_is_the_artifact_digest(target, project, deployer):
    build = asyncio.create_task(
        target.build(
            Site(project, "pr-1", 11), EXAMPLES / "flask", example_plan("flask"), deployer.log, _phase
        )
    )
    await finish_build(
        target.cluster.api, namespace_for(project, STYLE), 11, {"autostack.dev/test-digest": DIGEST}
    )
    artifact = await asyncio.wait_for(build, 60)
    assert artifact.ref.endswith(f"/autostack/{project}@{DIGEST}")
    assert any("generated for flask" in line for line in deployer.lines)
    assert "#5 CACHED" in deployer.lines  # the build container's log, forwarded (cluster/build.log)
    assert f"{project}/11" in target.sources.stored
    await deployer.deploy(project, "pr-1", 11, artifact.ref)


async def test_failed_build_reports_the_reason(target, project, deployer):
    build = asyncio.create_task(
        target.build(
            Site(project, "pr-2", 12), EXAMPLES / "flask", example_plan("flask"), deployer.log, _phase
        )
    )
    await finish_build(
        target.cluster.api,
        namespace_for(project, STYLE),
        12,
        {"autostack.dev/test-build-failure": "RUN pip install: exit code 1"},
    )
    with pytest.raises(TargetError, match="image build failed: RUN pip install: exit code 1"):
        await asyncio.wait_for(build, 60)


async def test_superseded_build_cancels_its_job(target, project, deployer):
    namespace = namespace_for(project, STYLE)
    build = asyncio.create_task(
        target.build(
            Site(project, "pr-3", 13), EXAMPLES / "flask", example_plan("flask"), deployer.log, _phase
        )
    )
    await wait_for_pod(target.cluster.api, namespace, "autostack.dev/deployment=13")
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
    jobs = client.BatchV1Api(target.cluster.api).list_namespaced_job(
        namespace, label_selector="autostack.dev/deployment=13"
    )
    assert all(j.metadata.deletion_timestamp for j in jobs.items)
