"""Production and preview deployments on a real API server, pods played by kwok."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client

from deployer.targets.kubernetes.apply import ENVIRONMENT_KINDS, FieldConflict
from deployer.targets.kubernetes.render import namespace_for
from tests.kubernetes.cluster.conftest import image
from tests.kubernetes.conftest import STYLE


def _apps(target):
    return client.AppsV1Api(target.cluster.api)


async def _deployment(target, project, environment):
    return await asyncio.to_thread(
        _apps(target).read_namespaced_deployment, environment, namespace_for(project, STYLE)
    )


async def test_production_and_preview_roll_out_with_labels_and_routes(target, deployer, registry, project):
    namespace = namespace_for(project, STYLE)
    url = await deployer.deploy(project, "production", 1, image(registry, project, 1), replicas=2)
    preview_url = await deployer.deploy(project, "pr-7", 2, image(registry, project, 2))

    assert url == f"https://{project}.apps.example.com"
    assert preview_url == f"https://pr-7--{project}.preview.example.com"
    for environment, deployment_id, kinds in (
        (
            "production",
            "1",
            {
                "Deployment",
                "Service",
                "Ingress",
                "Secret",
                "ServiceAccount",
                "NetworkPolicy",
                "PodDisruptionBudget",
            },
        ),
        ("pr-7", "2", {"Deployment", "Service", "Ingress", "Secret", "ServiceAccount", "NetworkPolicy"}),
    ):
        found = target.cluster.names(namespace, {"autostack.dev/environment": environment})
        assert {kind for kind, _ in found} == kinds
        for api_version, kind in ENVIRONMENT_KINDS:
            for item in (
                target.cluster.resource(api_version, kind)
                .get(namespace=namespace, label_selector=f"autostack.dev/environment={environment}")
                .items
            ):
                assert item.metadata.labels["app.kubernetes.io/managed-by"] == "autostack"
                assert item.metadata.labels["autostack.dev/project"] == project
                assert item.metadata.labels["autostack.dev/deployment"] == deployment_id
    production = await _deployment(target, project, "production")
    assert production.status.ready_replicas == 2
    pods = client.CoreV1Api(target.cluster.api).list_namespaced_pod(
        namespace, label_selector="autostack.dev/environment=production"
    )
    assert all(c.type != "Ready" or c.status == "True" for p in pods.items for c in p.status.conditions)
    ingress = client.NetworkingV1Api(target.cluster.api).read_namespaced_ingress("pr-7", namespace)
    assert ingress.spec.rules[0].host == f"pr-7--{project}.preview.example.com"
    assert ingress.spec.rules[0].http.paths[0].backend.service.name == "pr-7"
    service = client.CoreV1Api(target.cluster.api).read_namespaced_service("production", namespace)
    assert service.spec.selector["autostack.dev/environment"] == "production"
    assert {p.metadata.labels["autostack.dev/environment"] for p in pods.items} == {"production"}


async def test_redeploy_patches_in_place_and_rollback_reapplies_the_earlier_digest(
    target, deployer, registry, project
):
    first, second = image(registry, project, 1), image(registry, project, 2)
    await deployer.deploy(project, "production", 1, first)
    before = await _deployment(target, project, "production")
    await deployer.deploy(project, "production", 2, second)
    after = await _deployment(target, project, "production")
    assert after.metadata.uid == before.metadata.uid
    assert after.metadata.generation > before.metadata.generation
    assert after.spec.template.spec.containers[0].image == second
    await deployer.deploy(project, "production", 3, first)  # rollback: deployment 1's artifact
    rolled = await _deployment(target, project, "production")
    assert rolled.spec.template.spec.containers[0].image == first
    assert rolled.metadata.labels["autostack.dev/deployment"] == "3"


async def test_promote_moves_the_preview_digest_to_production(target, deployer, registry, project):
    preview = image(registry, project, 7)
    await deployer.deploy(project, "pr-7", 1, preview)
    await deployer.deploy(project, "production", 2, preview, replicas=2)
    production = await _deployment(target, project, "production")
    assert production.spec.template.spec.containers[0].image == preview
    assert production.spec.replicas == 2


async def test_prune_drops_objects_the_new_render_lacks(target, deployer, registry, project):
    namespace = namespace_for(project, STYLE)
    await deployer.deploy(project, "production", 1, image(registry, project, 1), replicas=2)
    assert ("PodDisruptionBudget", "production") in target.cluster.names(
        namespace, {"autostack.dev/environment": "production"}
    )
    await deployer.deploy(project, "production", 2, image(registry, project, 2), replicas=1)
    assert ("PodDisruptionBudget", "production") not in target.cluster.names(
        namespace, {"autostack.dev/environment": "production"}
    )


async def test_destroy_removes_everything_of_the_environment_only(target, deployer, registry, project):
    namespace = namespace_for(project, STYLE)
    await deployer.deploy(project, "production", 1, image(registry, project, 1))
    await deployer.deploy(project, "pr-3", 2, image(registry, project, 2))
    await target.destroy(project, "pr-3")
    assert target.cluster.names(namespace, {"autostack.dev/environment": "pr-3"}) == set()
    assert ("Deployment", "production") in target.cluster.names(
        namespace, {"autostack.dev/environment": "production"}
    )


async def test_apply_conflict_with_another_field_manager_is_reported_not_forced(
    target, deployer, registry, project
):
    namespace = namespace_for(project, STYLE)
    await deployer.deploy(project, "production", 1, image(registry, project, 1))
    intruder = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "production", "namespace": namespace},
        "spec": {"replicas": 3},
    }
    target.cluster.dynamic.server_side_apply(
        target.cluster.resource("apps/v1", "Deployment"),
        body=intruder,
        field_manager="kubectl-edit",
        force_conflicts=True,
    )
    with pytest.raises(FieldConflict, match=r"(?s)Deployment .*production.*kubectl-edit.*not forced"):
        await deployer.deploy(project, "production", 2, image(registry, project, 2))
    assert (await _deployment(target, project, "production")).spec.replicas == 3
