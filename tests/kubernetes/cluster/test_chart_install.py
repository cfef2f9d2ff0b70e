"""charts/autostack installed with Helm on the test control plane: the migration hook completes
before anything else, every Deployment becomes Available, and uninstall removes the release.
kwok plays the pods (cluster/kwok-stages.yaml): containers are Ready at once, a Job's pod
succeeds, so the image is never pulled and need not exist."""

from __future__ import annotations

import os
import time

import pytest
from kubernetes import client

from tests.chart.helm import CHART, helm_binary, run_helm
from tests.kubernetes.cluster.conftest import KUBECONFIG


@pytest.fixture
def helm() -> str:
    return helm_binary()


@pytest.fixture
def namespace(cluster):
    core = client.CoreV1Api(cluster.api)
    name = f"chart-{os.getpid()}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # what an operator creates before installing: the chart only names these Secrets
    secrets = {
        "autostack-database": {"DATABASE_URL": "postgresql://autostack:pw@rds.invalid:5432/autostack"},
        "autostack-redis": {"REDIS_URL": "rediss://elasticache.invalid:6379/0"},
        "autostack-app": {"APP_ID": "1", "WEBHOOK_SECRET": "whsec", "SECRET_KEY": "k" * 32},
    }
    for secret, data in secrets.items():
        body = client.V1Secret(metadata=client.V1ObjectMeta(name=secret), string_data=data)
        core.create_namespaced_secret(name, body)
    yield name
    core.delete_namespace(name)


def _conditions(obj) -> dict[str, str]:
    return {c.type: c.status for c in (obj.status.conditions or [])}


def test_the_chart_installs_migrates_becomes_available_and_uninstalls(cluster, helm, namespace):
    apps, batch = client.AppsV1Api(cluster.api), client.BatchV1Api(cluster.api)
    release = namespace
    start = time.monotonic()
    installed = run_helm(
        helm,
        "install", release, str(CHART),
        "--kubeconfig", str(KUBECONFIG),
        "--namespace", namespace,
        "--set", "image.repository=registry.invalid/autostack/chart-test",
        "--set", f"serviceAccount.roleArn=arn:aws:iam::123456789012:role/{release}",
        "--set", "relay.enabled=true",
        "--wait", "--timeout", "180s",
    )  # fmt: skip
    took = time.monotonic() - start
    assert "STATUS: deployed" in installed.stdout, installed.stdout

    job = batch.read_namespaced_job(f"{release}-autostack-migrate", namespace)
    assert _conditions(job).get("Complete") == "True", job.status
    assert job.metadata.annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    deployments = {
        d.metadata.labels["app.kubernetes.io/component"]: d
        for d in apps.list_namespaced_deployment(namespace).items
    }
    assert set(deployments) == {"web", "worker", "deploy-worker", "relay"}
    for role, deployment in deployments.items():
        assert _conditions(deployment).get("Available") == "True", (role, deployment.status)
        assert deployment.status.ready_replicas == deployment.spec.replicas, role
        # the hook ran first: every pod of the release was created after the Job had finished
        assert deployment.metadata.creation_timestamp >= job.status.completion_time, role
    account = client.CoreV1Api(cluster.api).read_namespaced_service_account(f"{release}-autostack", namespace)
    assert account.metadata.annotations["eks.amazonaws.com/role-arn"].endswith(f"role/{release}")
    print(f"helm install --wait: {took:.1f}s until every Deployment was Available")

    removed = run_helm(
        helm, "uninstall", release, "--kubeconfig", str(KUBECONFIG), "--namespace", namespace, "--wait"
    )
    assert f'release "{release}" uninstalled' in removed.stdout
    assert not apps.list_namespaced_deployment(namespace).items
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    assert f"{release}-autostack" not in {r.metadata.name for r in rbac.list_cluster_role().items}
