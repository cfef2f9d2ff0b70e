"""The cluster tier: a real control plane (cluster/up.sh) with kwok as the nodes.

Runs only under `make test-cluster`, which sets AUTOSTACK_TEST_KUBECONFIG; elsewhere every test
here is skipped with the reason and the command.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from kubernetes import client
from moto import mock_aws

from deployer.targets.base import Artifact, Site
from deployer.targets.kubernetes.access import ClusterAccess, api_client
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.aws import S3Sources
from deployer.targets.kubernetes.ecr import Registry
from deployer.targets.kubernetes.target import KubernetesTarget
from tests.kubernetes.conftest import STYLE, example_plan
from tests.servers import free_port, wait_for_port

KUBECONFIG = os.environ.get("AUTOSTACK_TEST_KUBECONFIG")
HERE = Path(__file__).parent
# kwok's Stages (cluster/kwok-stages.yaml) fail pods running exactly these images
PULL_FAILURE = "registry.invalid/autostack/pull-failure@sha256:" + "e" * 64
CRASH_LOOP = "registry.invalid/autostack/crash-loop@sha256:" + "c" * 64
_projects = itertools.count(1)
BUILDER_ROLE = "arn:aws:iam::123456789012:role/autostack-builder"
REGION = "eu-west-1"
SOURCES_BUCKET = "sources"


def pytest_collection_modifyitems(config, items):
    if KUBECONFIG:
        return
    skip = pytest.mark.skip(reason="cluster tier not run: no test control plane; run `make test-cluster`")
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a loopback port, where build sources go (a build pod would fetch
    them by presigned URL). A process of its own: `registry`'s in-process moto resets its
    state per test, and the `autostack worker` processes here reach it by AWS_ENDPOINT_URL_S3."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "s3.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        _s3(url).create_bucket(
            Bucket=SOURCES_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _s3(url: str) -> Any:
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def sources(s3_url: str) -> S3Sources:
    """AutoStack's S3 source store, on moto's server."""
    return S3Sources(_s3(s3_url), SOURCES_BUCKET)


@pytest.fixture(scope="session")
def cluster():
    return Cluster(api_client(ClusterAccess(kubeconfig=KUBECONFIG)))


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield Registry(
            boto3.client("ecr", region_name="eu-west-1"),
            sts=boto3.client("sts", region_name="eu-west-1"),
            builder_role=BUILDER_ROLE,
        )


@pytest.fixture
def target(cluster, registry, sources):
    # kwok's control plane has no volume provisioner, so a BuildKit state claim would never bind
    # and the build pod never schedule: builds here keep their state in an emptyDir (the claim
    # itself is rendered and validated in tests/kubernetes/test_build_cache_volume.py)
    return KubernetesTarget(cluster, STYLE, registry, sources, build_timeout=60, build_cache_size="")


@pytest.fixture
def project():
    """A project name of its own per test, so each test has its own namespace."""
    return f"t{os.getpid()}-{next(_projects)}"


def image(registry: Registry, project: str, n: int) -> str:
    """An image reference by digest in the project's (moto) repository."""
    return f"{registry.ensure(project).images.uri}@sha256:{str(n) * 64}"


class Deployer:
    """Release + health + switch, as the pipeline runs them, collecting the log."""

    def __init__(self, target: KubernetesTarget) -> None:
        self.target, self.lines = target, []

    async def log(self, line: str) -> None:
        self.lines.append(line)

    async def deploy(
        self,
        project: str,
        environment: str,
        deployment_id: int,
        ref: str,
        example: str = "flask",
        **plan_changes,
    ):
        plan = dataclasses.replace(example_plan(example), health_timeout=20, **plan_changes)
        site = Site(project, environment, deployment_id)
        release = await self.target.release(site, Artifact(ref), plan, {"GREETING": "hi"}, self.log)
        await self.target.health(release, plan, self.log)
        return await self.target.switch(site, release)


@pytest.fixture
def deployer(target):
    return Deployer(target)


async def wait_for_pod(api: client.ApiClient, namespace: str, selector: str, seconds: float = 30):
    """The first pod matching `selector`, waiting for it to exist."""
    core = client.CoreV1Api(api)
    for _ in range(int(seconds * 4)):
        pods = await asyncio.to_thread(core.list_namespaced_pod, namespace, label_selector=selector)
        if pods.items:
            return pods.items[0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"no pod matching {selector} in {namespace} after {seconds}s")


async def finish_build(api: client.ApiClient, namespace: str, deployment_id: int, annotation: dict[str, str]):
    """Play the build pod's result: kwok completes it once annotated (cluster/kwok-stages.yaml)."""
    pod = await wait_for_pod(
        api, namespace, f"autostack.dev/component=build,autostack.dev/deployment={deployment_id}"
    )
    await asyncio.to_thread(
        client.CoreV1Api(api).patch_namespaced_pod,
        pod.metadata.name,
        namespace,
        {"metadata": {"annotations": annotation}},
    )
