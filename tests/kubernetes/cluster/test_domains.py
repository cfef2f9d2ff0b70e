"""Custom domains reach a real API server's Ingress: at release, and through `refresh_domains` when
a domain is verified or removed between deploys."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client
from sqlalchemy import delete, update

from deployer.domains import verified_domains
from deployer.targets.kubernetes.render import namespace_for
from deployer.targets.kubernetes.target import KubernetesTarget
from store.models import Domain, Project
from tests.kubernetes.cluster.conftest import Deployer, image
from tests.kubernetes.conftest import STYLE


@pytest.fixture
def domain_target(cluster, registry, sessions, sources):
    """The cluster tier's target, reading verified domains from the test's store."""
    return KubernetesTarget(
        cluster, STYLE, registry, sources, build_timeout=60, domains=verified_domains(sessions)
    )


async def _ingress(target, project: str, environment: str):
    """(rule hosts, TLS hosts, backends, deployment label) of the environment's Ingress, or None."""
    networking = client.NetworkingV1Api(target.cluster.api)
    try:
        found = await asyncio.to_thread(
            networking.read_namespaced_ingress, environment, namespace_for(project, STYLE)
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return (
        [r.host for r in found.spec.rules],
        found.spec.tls[0].hosts,
        {r.http.paths[0].backend.service.name for r in found.spec.rules},
        found.metadata.labels["autostack.dev/deployment"],
    )


async def _add_domain(sessions, project: str, hostname: str, state: str = "pending") -> None:
    async with sessions.begin() as session:
        row = Project(name=project)
        session.add(row)
        await session.flush()
        session.add(Domain(project_id=row.id, hostname=hostname, token="tok", state=state))


async def _set_state(sessions, hostname: str, state: str) -> None:
    async with sessions.begin() as session:
        await session.execute(update(Domain).where(Domain.hostname == hostname).values(state=state))


async def test_verified_then_removed_domain_reaches_the_ingress_without_a_deploy(
    domain_target, sessions, registry, project
):
    target, default = domain_target, f"{project}.apps.example.com"
    custom = f"www.{project}.example"
    await _add_domain(sessions, project, custom)  # pending: not routed yet
    await Deployer(target).deploy(project, "production", 1, image(registry, project, 1))
    assert await _ingress(target, project, "production") == ([default], [default], {"production"}, "1")

    await _set_state(sessions, custom, "verified")
    await target.refresh_domains(project, "production")
    hosts = [default, custom]
    assert await _ingress(target, project, "production") == (hosts, hosts, {"production"}, "1")

    # the next release keeps it, under the new deployment's label
    await Deployer(target).deploy(project, "production", 2, image(registry, project, 2))
    assert await _ingress(target, project, "production") == (hosts, hosts, {"production"}, "2")

    async with sessions.begin() as session:
        await session.execute(delete(Domain).where(Domain.hostname == custom))
    await target.refresh_domains(project, "production")
    assert await _ingress(target, project, "production") == ([default], [default], {"production"}, "2")


async def test_refresh_never_creates_an_ingress_for_an_environment_not_running(
    domain_target, sessions, registry, project
):
    target = domain_target
    await _add_domain(sessions, project, f"www.{project}.example", state="verified")
    await target.refresh_domains(project, "production")  # never released: its namespace is absent
    assert await _ingress(target, project, "production") is None

    await Deployer(target).deploy(project, "production", 1, image(registry, project, 1))
    await target.destroy(project, "production")
    await target.refresh_domains(project, "production")
    assert await _ingress(target, project, "production") is None
