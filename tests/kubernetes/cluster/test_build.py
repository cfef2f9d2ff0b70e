"""The in-cluster build Job: its digest is the result the build pod reports, and it can be cancelled.

kwok cannot run BuildKit. The build pod's outcome is played by kwok once the test annotates the
pod (cluster/kwok-stages.yaml): everything around it (Job, registry Secret, reading the digest
from the termination message, cancelling) is real.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

import httpx
import pytest
from kubernetes import client

from deployer.targets.base import Site, TargetError
from deployer.targets.kubernetes.render import namespace_for
from tests.kubernetes.cluster.conftest import finish_build, wait_for_pod
from tests.kubernetes.conftest import EXAMPLES, STYLE, example_plan

ROOT = Path(__file__).parents[3]
DIGEST = "sha256:" + "d" * 64
# what kwok serves as the build container's log: the text after the CRI prefix of each line
BUILD_LOG = [
    line.split(" ", 3)[3] for line in (ROOT / "cluster" / "build.log").read_text().splitlines() if line
]


async def wait_for_line(lines: list[str], wanted: str, seconds: float = 30) -> None:
    """Wait until `wanted` has been logged."""
    for _ in range(int(seconds * 10)):
        if wanted in lines:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{wanted!r} was not logged within {seconds}s; got {lines}")


async def _phase(_name):
    return None


async def test_build_job_result_is_the_artifact_digest(target, project, deployer):
    build = asyncio.create_task(
        target.build(
            Site(project, "pr-1", 11), EXAMPLES / "flask", example_plan("flask"), deployer.log, _phase
        )
    )
    pod = await wait_for_pod(
        target.cluster.api,
        namespace_for(project, STYLE),
        "autostack.dev/component=build,autostack.dev/deployment=11",
    )
    await finish_build(
        target.cluster.api, namespace_for(project, STYLE), 11, {"autostack.dev/test-digest": DIGEST}
    )
    artifact = await asyncio.wait_for(build, 60)
    assert artifact.ref.endswith(f"/autostack/{project}@{DIGEST}")
    assert any("generated for flask" in line for line in deployer.lines)
    # what the pod's source container fetches (kwok runs none): the tarball, from S3 by presigned URL
    [source] = [c for c in pod.spec.init_containers if c.name == "source"]
    url = next(e.value for e in source.env if e.name == "SOURCE_URL")
    async with httpx.AsyncClient() as http:
        fetched = await http.get(url)
    assert fetched.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(fetched.content), mode="r:gz") as archive:
        names = set(archive.getnames())
    assert {"app.py", "requirements.txt", "Dockerfile.autostack"} <= {Path(n).name for n in names}
    await deployer.deploy(project, "pr-1", 11, artifact.ref)


async def test_build_log_is_streamed_while_the_job_runs(target, project, deployer):
    build = asyncio.create_task(
        target.build(
            Site(project, "pr-4", 14), EXAMPLES / "flask", example_plan("flask"), deployer.log, _phase
        )
    )
    # the build pod stays running until annotated, so these lines can only have come by streaming
    await wait_for_line(deployer.lines, BUILD_LOG[-1])
    assert not build.done()
    await finish_build(
        target.cluster.api, namespace_for(project, STYLE), 14, {"autostack.dev/test-digest": DIGEST}
    )
    await asyncio.wait_for(build, 60)
    streamed = [line for line in deployer.lines if line in BUILD_LOG]
    assert streamed == BUILD_LOG  # each line once, in order: the final tail read repeats none
    pushed = next(i for i, line in enumerate(deployer.lines) if line.startswith("pushed "))
    assert deployer.lines.index(BUILD_LOG[-1]) < pushed


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
