"""Each build Job holds a push credential of its own, for its own repositories, only while it runs.

ECR and STS are moto; the Job, its Secret, the owner reference and the deletions are the real API
server's. The credential's token is matched to the STS session that signed the token request.
"""

from __future__ import annotations

import asyncio
import base64
import json

import boto3
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from moto.sts.models import sts_backends

from deployer.targets.base import Site, TargetError
from deployer.targets.kubernetes.ecr import Registry
from deployer.targets.kubernetes.render import namespace_for
from deployer.targets.kubernetes.target import KubernetesTarget
from tests.kubernetes.cluster.conftest import BUILDER_ROLE, Deployer, finish_build, image
from tests.kubernetes.conftest import EXAMPLES, STYLE, Signed, example_plan

DIGEST = "sha256:" + "b" * 64
SUCCEED = {"autostack.dev/test-digest": DIGEST}
FAIL = {"autostack.dev/test-build-failure": "RUN make: exit code 2"}


@pytest.fixture
def signed():
    return Signed()


@pytest.fixture
def scoped(cluster, registry, signed, sources):
    """A target whose registry makes each build's client through `signed` (moto from `registry`)."""
    watched = Registry(registry.ecr, sts=registry.sts, builder_role=BUILDER_ROLE, ecr_for=signed.client)
    return KubernetesTarget(cluster, STYLE, watched, sources, build_timeout=60, build_cache_size="")


async def _phase(_name):
    return None


def _core(target) -> client.CoreV1Api:
    return client.CoreV1Api(target.cluster.api)


async def _secret(target, namespace: str, name: str):
    """The Secret, or None once it is gone."""
    try:
        return await asyncio.to_thread(_core(target).read_namespaced_secret, name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


async def _started(lines: list[str], job: str) -> None:
    for _ in range(300):
        if any(line.endswith(f"/{job} started") for line in lines):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{job} was not started; got {lines}")


def _build(target, deployer, site: Site):
    plan = example_plan("flask")
    return asyncio.create_task(target.build(site, EXAMPLES / "flask", plan, deployer.log, _phase))


@pytest.mark.parametrize("outcome", [SUCCEED, FAIL], ids=["succeeds", "fails"])
async def test_build_job_mounts_only_its_own_scoped_credential_deleted_when_it_ends(
    scoped, deployer, project, signed, outcome
):
    namespace = namespace_for(project, STYLE)
    build = _build(scoped, deployer, Site(project, "pr-5", 21))
    await _started(deployer.lines, "build-21")

    job = await asyncio.to_thread(
        client.BatchV1Api(scoped.cluster.api).read_namespaced_job, "build-21", namespace
    )
    pod = job.spec.template.spec
    assert [v.secret.secret_name for v in pod.volumes if v.secret] == ["build-21-registry"]
    assert not pod.image_pull_secrets
    for container in pod.containers + pod.init_containers:
        assert not container.env_from
        assert all(e.value_from is None for e in container.env or [])
    secret = await _secret(scoped, namespace, "build-21-registry")
    assert secret is not None
    assert [(o.kind, o.name, o.uid) for o in secret.metadata.owner_references] == [
        ("Job", "build-21", job.metadata.uid)
    ]
    (session,) = [
        s for s in sts_backends["123456789012"]["aws"].assumed_roles if s.session_name.endswith("-21")
    ]
    assert signed.keys == [session.access_key_id]
    assert session.access_key_id != boto3.session.Session().get_credentials().access_key
    mounted = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))
    assert [entry["auth"] for entry in mounted["auths"].values()] == signed.tokens
    assert await _secret(scoped, namespace, "pr-5-registry") is None

    await finish_build(scoped.cluster.api, namespace, 21, outcome)
    if outcome is FAIL:
        with pytest.raises(TargetError, match="RUN make: exit code 2"):
            await asyncio.wait_for(build, 60)
    else:
        await asyncio.wait_for(build, 60)
    assert await _secret(scoped, namespace, "build-21-registry") is None


async def test_fork_build_pushes_to_its_own_repositories_and_only_reads_the_production_cache(
    scoped, deployer, project
):
    namespace = namespace_for(project, STYLE)
    build = _build(scoped, deployer, Site(project, "pr-6", 22, untrusted=True))
    await _started(deployer.lines, "build-22")
    job = await asyncio.to_thread(
        client.BatchV1Api(scoped.cluster.api).read_namespaced_job, "build-22", namespace
    )
    script = job.spec.template.spec.containers[0].args[0]
    repo = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/{project}"
    assert f"--output=type=image,name={repo}/untrusted:pr-6-22,push=true" in script
    assert f"--export-cache=type=registry,ref={repo}/untrusted/cache:pr-6," in script
    assert script.count("--export-cache") == 1
    assert f"--import-cache=type=registry,ref={repo}/cache:production" in script
    await finish_build(scoped.cluster.api, namespace, 22, SUCCEED)
    artifact = await asyncio.wait_for(build, 60)
    assert artifact.ref == f"{repo}/untrusted@{DIGEST}"


async def test_cancelled_build_deletes_its_credential(scoped, deployer, project):
    namespace = namespace_for(project, STYLE)
    build = _build(scoped, deployer, Site(project, "pr-8", 23))
    await _started(deployer.lines, "build-23")
    assert await _secret(scoped, namespace, "build-23-registry") is not None
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
    assert await _secret(scoped, namespace, "build-23-registry") is None


async def test_a_release_meanwhile_leaves_the_running_builds_credential(scoped, deployer, registry, project):
    namespace = namespace_for(project, STYLE)
    await Deployer(scoped).deploy(project, "pr-9", 30, image(registry, project, 1))
    build = _build(scoped, deployer, Site(project, "pr-9", 32))
    await _started(deployer.lines, "build-32")
    await Deployer(scoped).deploy(project, "pr-9", 31, image(registry, project, 2))  # prunes pr-9
    assert await _secret(scoped, namespace, "build-32-registry") is not None
    await finish_build(scoped.cluster.api, namespace, 32, SUCCEED)
    await asyncio.wait_for(build, 60)


async def test_without_a_builder_role_a_trusted_build_says_whose_credential_it_holds(
    cluster, registry, deployer, project, sources
):
    target = KubernetesTarget(
        cluster, STYLE, Registry(registry.ecr), sources, build_timeout=60, build_cache_size=""
    )
    build = _build(target, deployer, Site(project, "pr-3", 24))
    await finish_build(cluster.api, namespace_for(project, STYLE), 24, SUCCEED)
    await asyncio.wait_for(build, 60)
    assert (
        "warning: BUILD_ROLE_ARN is not set, so this build holds AutoStack's own ECR credential, "
        "which can push to every project's repositories (docs/eks.md §2)"
    ) in deployer.lines
