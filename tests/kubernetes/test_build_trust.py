"""A fork's deployment reaches the kubernetes target as untrusted, and without a builder role it
is refused before its source is uploaded or any push credential is made (moto for ECR and STS)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select

from deployer.operations import queue_deployment
from deployer.pipeline import run_deployment
from deployer.targets.kubernetes.ecr import Registry
from deployer.targets.kubernetes.target import KubernetesTarget
from store.models import Deployment, Environment
from tests.kubernetes.conftest import EXAMPLES, STYLE


class Sink:
    async def emit(self, event: object) -> None:
        return None


class Sources:
    def __init__(self) -> None:
        self.stored: list[tuple[str, int]] = []

    def put(self, project: str, deployment_id: int, tarball: bytes) -> str:
        self.stored.append((project, deployment_id))
        return "https://sources.invalid/x.tar.gz"


class Unreachable:
    """A cluster no test here may touch: the refusal comes first."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the cluster was used ({name}) for a build that should be refused")


@pytest.fixture
def ecr(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ecr", region_name="eu-west-1")


async def test_fork_build_without_builder_role_is_refused_before_anything_runs(sessions, ecr, tmp_path):
    deployment_id = await queue_deployment(
        sessions, "shop", "pr-7", trigger="pull_request", source=f"dir:{EXAMPLES / 'flask'}"
    )
    async with sessions.begin() as session:
        environment = await session.scalar(select(Environment).where(Environment.name == "pr-7"))
        environment.untrusted = True
    tokens: list[str] = []
    ecr.meta.events.register("before-send.ecr.GetAuthorizationToken", lambda **_: tokens.append("asked"))
    sources = Sources()
    target = KubernetesTarget(Unreachable(), STYLE, Registry(ecr), sources)  # type: ignore[arg-type]

    state = await run_deployment(sessions, deployment_id, Sink(), target, work_dir=tmp_path / "work")

    async with sessions() as session:
        row = await session.get(Deployment, deployment_id)
    assert state == "failed" and row is not None
    assert row.reason == (
        "build failed: a fork's build on the kubernetes target needs BUILD_ROLE_ARN, so that it gets "
        "a push credential for its own repositories only (docs/eks.md §2); not built"
    )
    assert sources.stored == [] and tokens == []
