"""charts/autostack: lint, render, validate against the control plane's Kubernetes, and what an
operator relies on: one Deployment per process role with its command, probes, a locked-down pod,
Secrets referenced and never rendered, the migration hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.chart.dockerfile import final_stage_user
from tests.chart.helm import CHART, REPO, helm_binary, kubernetes_version, run_helm, template

FULL = Path(__file__).with_name("full-values.yaml")
# the schemas kubernetes-validate ships are per minor release
SCHEMA_VERSION = ".".join(kubernetes_version().split(".")[:2]) + ".0"
ROLES = {"web": ["serve"], "worker": ["worker"], "deploy-worker": ["worker", "--deploys"]}


@pytest.fixture(scope="module")
def helm() -> str:
    return helm_binary()


@pytest.fixture(scope="module")
def default(helm) -> list[dict[str, Any]]:
    return template(helm)


@pytest.fixture(scope="module")
def full(helm) -> list[dict[str, Any]]:
    return template(helm, FULL)


def _find(objects, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def _deployments(objects) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["labels"]["app.kubernetes.io/component"]: o
        for o in objects
        if o["kind"] == "Deployment"
    }


def _env(container) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("values", [None, FULL], ids=["defaults", "full"])
def test_helm_lint_passes(helm, values):
    args = ["lint", "--strict", str(CHART), "--kube-version", kubernetes_version()]
    result = run_helm(helm, *args, *(["--values", str(values)] if values else []))
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("which", ["default", "full"])
def test_every_rendered_object_is_valid_for_the_clusters_kubernetes(which, request):
    objects = request.getfixturevalue(which)
    for obj in objects:
        if obj["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # a CRD of the Prometheus operator: kubernetes-validate has no schema for it
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job"} <= kinds


def test_each_process_role_runs_its_own_command(default, full):
    assert {
        role: d["spec"]["template"]["spec"]["containers"][0]["args"]
        for role, d in _deployments(default).items()
    } == ROLES
    assert {
        role: d["spec"]["template"]["spec"]["containers"][0]["args"] for role, d in _deployments(full).items()
    } == {
        **ROLES,
        "relay": ["relay"],
    }
    # the web tier leaves deploys (and with relay.enabled, the relay) to their own pods
    web = _env(_deployments(default)["web"]["spec"]["template"]["spec"]["containers"][0])
    assert (web["AUTOSTACK_DEPLOYS_IN_WEB"], web["AUTOSTACK_RELAY_IN_WEB"]) == ("0", "1")
    web = _env(_deployments(full)["web"]["spec"]["template"]["spec"]["containers"][0])
    assert (web["AUTOSTACK_DEPLOYS_IN_WEB"], web["AUTOSTACK_RELAY_IN_WEB"]) == ("0", "0")


def test_without_a_deploy_worker_the_web_tier_deploys(helm):
    objects = template(helm, None, "deployWorker.enabled=false")
    assert set(_deployments(objects)) == {"web", "worker"}
    web = _env(_deployments(objects)["web"]["spec"]["template"]["spec"]["containers"][0])
    assert web["AUTOSTACK_DEPLOYS_IN_WEB"] == "1"


def test_web_pods_are_probed_on_healthz_and_readyz_and_served(full):
    web = _deployments(full)["web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert _env(container)["HOST"] == "0.0.0.0"
    service = _find(full, "Service", "autostack-web")
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = _find(full, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == web["metadata"]["name"]
    assert "replicas" not in web["spec"], "the HPA owns the web tier's replica count"


@pytest.mark.parametrize("which", ["default", "full"])
def test_every_pod_runs_non_root_on_a_read_only_root_like_the_image(which, request):
    uid = int(final_stage_user().split(":")[0])
    pods = [
        o["spec"]["template"]["spec"]
        for o in request.getfixturevalue(which)
        if o["kind"] in ("Deployment", "Job")
    ]
    assert len(pods) >= 4
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        emptydirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            # the only writable paths, where the image points HOME, TMPDIR and the data folder
            assert set(mounts) == {"/tmp", "/var/lib/autostack"}
            assert set(mounts.values()) <= emptydirs
            assert container["resources"]["requests"] and container["resources"]["limits"]


def test_no_secret_is_rendered_only_referenced(full):
    assert not [o for o in full if o["kind"] == "Secret"]
    for role, deployment in _deployments(full).items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = _env(container)
        assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "rds-autostack", "key": "url"}}, role
        assert env["REDIS_URL"] == {"secretKeyRef": {"name": "elasticache-autostack", "key": "url"}}, role
        assert {"secretRef": {"name": "github-app"}} in container["envFrom"], role
    settings = _find(full, "ConfigMap")["data"]
    assert settings["AUTOSTACK_URL"] == "https://autostack.acme.dev"
    assert settings["KUBE_IN_CLUSTER"] == "1"
    assert settings["APP_ID"] == "123456"


@pytest.mark.parametrize("name", ["DATABASE_URL", "PRIVATE_KEY", "WEBHOOK_SECRET", "SECRET_KEY"])
def test_a_secret_put_in_the_plain_settings_is_refused(helm, name):
    args = ["template", "autostack", str(CHART), "--set", f"settings.{name}=hunter2-s3cr3t"]
    result = run_helm(helm, *args, check=False)
    assert result.returncode != 0
    assert "settings" in result.stderr and name in result.stderr
    assert "hunter2-s3cr3t" not in result.stdout + result.stderr


def test_the_schema_names_a_malformed_value(helm):
    result = run_helm(
        helm, "template", "x", str(CHART), "--set", "serviceAccount.roleArn=autostack-role", check=False
    )
    assert result.returncode != 0 and "roleArn" in result.stderr


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook(full):
    job = _find(full, "Job", "autostack-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == ["migrate"]
    assert pod["restartPolicy"] == "Never"
    # hooks run before the chart's ServiceAccount exists; migrating needs no cluster access
    assert "serviceAccountName" not in pod and pod["automountServiceAccountToken"] is False
    assert _env(pod["containers"][0])["DATABASE_URL"] == {
        "secretKeyRef": {"name": "rds-autostack", "key": "url"}
    }


def test_service_account_has_the_irsa_role_and_the_rbac_of_docs(default, full):
    assert "annotations" not in _find(default, "ServiceAccount")["metadata"]
    account = _find(full, "ServiceAccount")
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/autostack"
    }
    documented = {d["kind"]: d for d in yaml.safe_load_all((REPO / "docs" / "rbac.yaml").read_text())}
    assert _find(full, "ClusterRole")["rules"] == documented["ClusterRole"]["rules"]
    binding = _find(full, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "autostack"}
    ]
    for deployment in _deployments(full).values():
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_disruption_budgets_cover_each_replicated_role(full):
    budgets = {o["metadata"]["name"]: o["spec"] for o in full if o["kind"] == "PodDisruptionBudget"}
    deployments = _deployments(full)
    assert set(budgets) == {"autostack-web", "autostack-worker", "autostack-deploy-worker"}
    for name, spec in budgets.items():
        role = name.removeprefix("autostack-")
        assert spec["selector"]["matchLabels"] == deployments[role]["spec"]["selector"]["matchLabels"]
        assert spec["minAvailable"] == 1


def test_deploy_workers_are_replicated_and_rolled_one_at_a_time(default):
    # a starting deploy worker fails only deployments whose lease expired, so a new pod may start
    # beside the old one (tests/test_many_processes.py runs two and restarts one mid-flight)
    deploy = _deployments(default)["deploy-worker"]["spec"]
    assert deploy["replicas"] == 2
    assert deploy["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert _deployments(default)["worker"]["spec"]["replicas"] == 2


def test_ingress_routes_the_webhook_and_the_page_with_tls(default, full, helm):
    assert not [o for o in default if o["kind"] == "Ingress"]
    ingress = _find(full, "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["autostack.acme.dev"], "secretName": "autostack-acme-tls"}]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "autostack.acme.dev"
    paths = {(p["path"], p["pathType"]): p["backend"]["service"] for p in rule["http"]["paths"]}
    web = {"name": "autostack-web", "port": {"name": "http"}}
    assert paths == {("/api/github/webhooks", "Exact"): web, ("/", "Prefix"): web}
    webhook_only = _find(template(helm, FULL, "ingress.page=false"), "Ingress")
    assert [p["path"] for p in webhook_only["spec"]["rules"][0]["http"]["paths"]] == ["/api/github/webhooks"]


def test_service_monitor_only_when_enabled_and_it_scrapes_the_web_service(default, full):
    assert not [o for o in default if o["kind"] == "ServiceMonitor"]
    monitor = _find(full, "ServiceMonitor")
    service = _find(full, "Service", "autostack-web")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_worker_pods_serve_metrics_and_the_service_monitor_finds_them(full):
    monitor = _find(full, "ServiceMonitor")["spec"]
    [components] = [e["values"] for e in monitor["selector"]["matchExpressions"]]
    scraped_ports = {e["port"] for e in monitor["endpoints"]}
    for role in ("worker", "deploy-worker"):
        [container] = _deployments(full)[role]["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "metrics", "containerPort": 9300, "protocol": "TCP"}]
        env = _env(container)
        assert env["AUTOSTACK_METRICS_PORT"] == "9300" and env["HOST"] == "0.0.0.0"
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        service = _find(full, "Service", f"autostack-{role}-metrics")
        assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert service["metadata"]["labels"]["app.kubernetes.io/component"] in components
        assert service["spec"]["selector"].items() <= container_labels(full, role).items()
        assert service["spec"]["ports"][0]["name"] in scraped_ports


def container_labels(objects, role: str) -> dict[str, str]:
    return _deployments(objects)[role]["spec"]["template"]["metadata"]["labels"]


def test_images_are_pinned_by_digest_when_given(default, full):
    images = {
        c["image"] for d in _deployments(full).values() for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    }
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert _deployments(default)["web"]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"autostack:{chart['appVersion']}"
    )
