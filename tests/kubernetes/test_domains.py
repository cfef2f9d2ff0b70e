"""Verified custom domains on the kubernetes target: rendered into the Ingress, read from the
store at release, and re-applied alone by `refresh_domains` (the cluster tier does it for real)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from bot.worker.deploy_jobs import DeployRuntime, refresh_domains_job
from deployer.domains import verified_domains
from deployer.targets.base import Artifact, Site
from deployer.targets.kubernetes.apply import FieldConflict
from deployer.targets.kubernetes.render import Workload, render, render_ingress, render_yaml, tls_secret_for
from deployer.targets.kubernetes.target import KubernetesTarget
from store.models import Domain, Project
from tests.kubernetes.conftest import DIGEST, STYLE, example_plan

SITE = Site("shop", "production", 42)
DEFAULT_HOST = "shop.apps.example.com"


def _ingress(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Ingress")


def _hosts(ingress: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(rule hosts, TLS hosts) of an Ingress."""
    return [r["host"] for r in ingress["spec"]["rules"]], ingress["spec"]["tls"][0]["hosts"]


def _workload(domains: tuple[str, ...] = ()) -> Workload:
    return Workload(SITE, example_plan("flask"), DIGEST, {"A": "1"}, domains)


def test_custom_domains_are_rules_to_the_service_and_tls_hosts():
    ingress = _ingress(render(_workload(("www.shop.example", "api.shop.example")), STYLE))
    rules, tls = _hosts(ingress)
    assert rules == tls == [DEFAULT_HOST, "api.shop.example", "www.shop.example"]
    assert ingress["spec"]["tls"][0]["secretName"] == tls_secret_for("production")
    for rule in ingress["spec"]["rules"]:
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "production", "port": {"name": "http"}}


def test_domains_are_sorted_and_listed_once():
    ingress = _ingress(render(_workload(("b.example", "a.example", "b.example")), STYLE))
    assert _hosts(ingress)[0] == [DEFAULT_HOST, "a.example", "b.example"]


def test_without_domains_only_the_default_host_and_nothing_else_changes():
    plain = Workload(SITE, example_plan("flask"), DIGEST, {"A": "1"})
    assert _hosts(_ingress(render(plain, STYLE))) == ([DEFAULT_HOST], [DEFAULT_HOST])
    with_domain = render(_workload(("www.shop.example",)), STYLE)
    # only the Ingress differs: no pod restart when a domain comes or goes
    assert [o for o in render(plain, STYLE) if o["kind"] != "Ingress"] == [
        o for o in with_domain if o["kind"] != "Ingress"
    ]


@pytest.mark.parametrize("domains", [(), ("www.shop.example", "api.shop.example")])
def test_the_ingress_alone_is_the_one_of_the_full_render(domains):
    assert render_ingress(SITE, domains, STYLE) == _ingress(render(_workload(domains), STYLE))
    assert yaml.safe_dump(render_ingress(SITE, domains, STYLE), sort_keys=False) in render_yaml(
        _workload(domains), STYLE
    )


async def _project_with_domains(sessions, name: str = "shop") -> None:
    async with sessions.begin() as session:
        project = Project(name=name)
        other = Project(name=f"{name}-other")
        session.add_all([project, other])
        await session.flush()
        session.add_all(
            [
                Domain(project_id=project.id, hostname="www.shop.example", token="t", state="verified"),
                Domain(project_id=project.id, hostname="new.shop.example", token="t"),  # pending
                Domain(
                    project_id=project.id,
                    environment="pr-7",
                    hostname="pr.shop.example",
                    token="t",
                    state="verified",
                ),
                Domain(project_id=other.id, hostname="www.other.example", token="t", state="verified"),
            ]
        )


async def test_the_store_answers_verified_domains_of_one_environment_only(sessions):
    await _project_with_domains(sessions)
    domains_for = verified_domains(sessions)
    assert await domains_for("shop", "production") == ("www.shop.example",)
    assert await domains_for("shop", "pr-7") == ("pr.shop.example",)
    assert await domains_for("shop", "pr-8") == ()
    assert await domains_for("nobody", "production") == ()


class FakeCluster:
    """The Cluster calls the target makes on release and refresh, recorded; `ingress` is what a
    GET of the environment's Ingress finds; `conflicts` applies fail with FieldConflict first."""

    def __init__(self, ingress: dict[str, Any] | None = None, conflicts: int = 0) -> None:
        self.applied: list[list[dict[str, Any]]] = []
        self.ingress, self.conflicts, self.gets = ingress, conflicts, 0

    def apply(self, objects: list[dict[str, Any]]) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise FieldConflict("uid mismatch")
        self.applied.append(copy.deepcopy(objects))

    def prune(self, namespace: str, labels: dict[str, str], keep: list[dict[str, Any]]) -> list[str]:
        return []

    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
        assert (namespace, kind, name) == ("autostack-shop", "Ingress", "production")
        self.gets += 1
        return copy.deepcopy(self.ingress)


def _target(cluster: FakeCluster, sessions) -> KubernetesTarget:
    return KubernetesTarget(cluster, STYLE, None, None, domains=verified_domains(sessions))  # type: ignore[arg-type]


async def test_release_routes_the_verified_domains_not_the_pending_one(sessions):
    await _project_with_domains(sessions)
    cluster, lines = FakeCluster(), []

    async def log(line: str) -> None:
        lines.append(line)

    await _target(cluster, sessions).release(SITE, Artifact(DIGEST), example_plan("flask"), {}, log)

    ingress = _ingress(cluster.applied[0])
    assert _hosts(ingress) == ([DEFAULT_HOST, "www.shop.example"],) * 2
    assert "custom domains: www.shop.example" in lines


def _running_ingress(deployment_id: int = 7) -> dict[str, Any]:
    ingress = render_ingress(Site("shop", "production", deployment_id), (), STYLE)
    ingress["metadata"] |= {"uid": "uid-1", "resourceVersion": "99"}
    return ingress


async def test_refresh_applies_the_ingress_alone_keeping_its_release_and_uid(sessions):
    await _project_with_domains(sessions)
    cluster = FakeCluster(_running_ingress(deployment_id=7))

    await _target(cluster, sessions).refresh_domains("shop", "production")

    [[ingress]] = cluster.applied
    assert _hosts(ingress) == ([DEFAULT_HOST, "www.shop.example"],) * 2
    assert ingress["metadata"]["labels"]["autostack.dev/deployment"] == "7"
    assert ingress["metadata"]["uid"] == "uid-1"  # a precondition: never recreates a deleted one
    assert "resourceVersion" not in ingress["metadata"]  # a release applying meanwhile is no conflict


async def test_refresh_after_removal_leaves_the_default_host_only(sessions):
    cluster = FakeCluster(_running_ingress())
    await _target(cluster, sessions).refresh_domains("shop", "production")
    assert _hosts(cluster.applied[0][0]) == ([DEFAULT_HOST], [DEFAULT_HOST])


async def test_refresh_of_an_environment_without_ingress_applies_nothing(sessions):
    await _project_with_domains(sessions)
    cluster = FakeCluster(None)
    await _target(cluster, sessions).refresh_domains("shop", "production")
    assert cluster.applied == []


async def test_refresh_reads_again_once_when_the_ingress_was_replaced(sessions):
    cluster = FakeCluster(_running_ingress(), conflicts=1)
    await _target(cluster, sessions).refresh_domains("shop", "production")
    assert cluster.gets == 2 and len(cluster.applied) == 1

    stuck = FakeCluster(_running_ingress(), conflicts=2)
    with pytest.raises(FieldConflict):
        await _target(stuck, sessions).refresh_domains("shop", "production")


async def test_the_deploy_job_routes_the_domains_and_reports_a_permanent_failure(sessions, tmp_path):
    await _project_with_domains(sessions)
    cluster = FakeCluster(_running_ingress())
    ctx = {"services": None, "deploy": DeployRuntime(_target(cluster, sessions), tmp_path, hub=None)}
    assert await refresh_domains_job(ctx, "shop", "production") is True
    assert _hosts(cluster.applied[0][0])[0] == [DEFAULT_HOST, "www.shop.example"]

    stuck = FakeCluster(_running_ingress(), conflicts=2)
    ctx = {"services": None, "deploy": DeployRuntime(_target(stuck, sessions), tmp_path, hub=None)}
    assert await refresh_domains_job(ctx, "shop", "production") is False
