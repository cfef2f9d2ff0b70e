"""A control plane that cannot be reached (nothing listens, or the connection drops) is the
cluster's temporary error on the build and the deploy path, so the deployment is queued again
instead of failing as an internal error."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from kubernetes import client

from deployer.operations import queue_deployment
from deployer.pipeline import run_deployment
from deployer.targets.base import Artifact, Site
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.errors import ClusterTemporaryError
from deployer.targets.kubernetes.pushscope import BuildRepositories, PushCredential, Repository
from deployer.targets.kubernetes.target import KubernetesTarget
from store.models import Deployment
from tests.kubernetes.conftest import DIGEST, EXAMPLES, STYLE, example_plan
from tests.servers import free_port

REPOSITORY = Repository(
    "autostack/shop", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/shop", "arn"
)


class Registry:
    def ensure(self, project: str, *, untrusted: bool = False) -> BuildRepositories:
        return BuildRepositories(REPOSITORY, REPOSITORY)

    def push_credential(self, repos: BuildRepositories, project: str, deployment_id: int) -> PushCredential:
        return PushCredential({"auths": {}}, scoped=True)

    def forget_environment(self, project: str, environment: str) -> int:
        return 0


class Sources:
    def put(self, project: str, deployment_id: int, tarball: bytes) -> str:
        return "https://sources.invalid/shop.tar.gz"


class Sink:
    async def emit(self, event: object) -> None:
        return None


@pytest.fixture
def dropping_port() -> Iterator[int]:
    """A port that accepts connections and closes them at once (an API server restarting
    behind its load balancer)."""
    listener = socket.create_server(("127.0.0.1", free_port()))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture(params=["refused-https", "refused-http", "dropped-https", "dropped-http"])
def control_plane(request: pytest.FixtureRequest) -> str:
    """The URL of an API server that cannot be reached, each way it fails."""
    how, scheme = request.param.split("-")
    port = request.getfixturevalue("dropping_port") if how == "dropped" else free_port()
    return f"{scheme}://127.0.0.1:{port}"


def _target(host: str) -> KubernetesTarget:
    configuration = client.Configuration()
    configuration.host = host
    return KubernetesTarget(Cluster(client.ApiClient(configuration)), STYLE, Registry(), Sources())


async def _quiet(_line: str) -> None:
    return None


async def test_a_build_against_an_unreachable_control_plane_is_a_temporary_error(control_plane, tmp_path):
    target = _target(control_plane)

    async def phase(_name: str, _state: str | None = None) -> None:
        return None

    with pytest.raises(ClusterTemporaryError, match="discovering the cluster's APIs"):
        await target.build(
            Site("shop", "production", 1), EXAMPLES / "flask", example_plan("flask"), _quiet, phase
        )


async def test_a_release_against_an_unreachable_control_plane_is_a_temporary_error(control_plane):
    target = _target(control_plane)
    site = Site("shop", "production", 1)

    with pytest.raises(ClusterTemporaryError, match="discovering the cluster's APIs"):
        await target.release(site, Artifact(DIGEST), example_plan("flask"), {}, _quiet)


async def test_the_deployment_is_queued_again_not_failed_as_an_internal_error(
    sessions, dropping_port, tmp_path
):
    deployment_id = await queue_deployment(
        sessions, "shop", "production", trigger="cli", source=f"dir:{EXAMPLES / 'flask'}"
    )
    target = _target(f"http://127.0.0.1:{dropping_port}")

    state = await run_deployment(
        sessions, deployment_id, Sink(), target, work_dir=tmp_path / "work", final_try=False
    )

    async with sessions() as session:
        row = await session.get(Deployment, deployment_id)
    assert state == "queued" and row is not None and row.state == "queued"
    assert row.reason.startswith(
        "retrying: build failed: ClusterTemporaryError: discovering the cluster's APIs"
    )
    assert "internal error" not in row.reason
