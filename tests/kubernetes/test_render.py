"""Rendered manifests: golden files, official-schema validation, and the rules each kind keeps.

Rewrite the golden files after an intended change with AUTOSTACK_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from deployer.config import parse_config
from deployer.plan import Plan
from deployer.targets.base import Site
from deployer.targets.kubernetes.render import Workload, render, render_yaml
from tests.kubernetes.conftest import DIGEST, EXAMPLES, STYLE, example_plan

GOLDEN = Path(__file__).parent / "golden"
KUBERNETES_VERSION = "1.36.0"  # the schemas shipped in kubernetes-validate; cluster/go.mod pins 1.36.1
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
SCALES = {
    "single": (1, None),
    "replicas3": (3, None),
    "autoscale": (1, {"min": 2, "max": 6, "cpu": 70}),
}


def _workload(example: str, environment: str, scale: str) -> Workload:
    replicas, autoscale = SCALES[scale]
    resources = {"cpu": "250m", "memory": "512Mi"} if scale == "autoscale" else {}
    plan = dataclasses.replace(
        example_plan(example), replicas=replicas, autoscale=autoscale, resources=resources
    )
    return Workload(
        site=Site("shop", environment, 42),
        plan=plan,
        image=DIGEST,
        env={"GREETING": "hello", "DATABASE_URL": "postgres://db/shop"},
        domains=("www.shop.example",) if environment == "production" else (),
    )


MATRIX = [(e, env, s) for e in EXAMPLE_NAMES for env in ("production", "pr-7") for s in SCALES]


@pytest.mark.parametrize(("example", "environment", "scale"), MATRIX)
def test_rendered_set_matches_golden_and_validates(example, environment, scale):
    workload = _workload(example, environment, scale)
    text = render_yaml(workload, STYLE)
    golden = GOLDEN / f"{example}.{environment}.{scale}.yaml"
    if os.environ.get("AUTOSTACK_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden.name} differs; AUTOSTACK_UPDATE_GOLDEN=1 rewrites it"
    for obj in yaml.safe_load_all(text):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_no_golden_file_is_stale():
    expected = {f"{e}.{env}.{s}.yaml" for e, env, s in MATRIX}
    assert {p.name for p in GOLDEN.glob("*.yaml")} == expected


def _by_kind(objects):
    return {o["kind"]: o for o in objects}


@pytest.mark.parametrize(
    ("scale", "kinds"),
    [
        (
            "single",
            {"Namespace", "ServiceAccount", "Secret", "Deployment", "Service", "Ingress", "NetworkPolicy"},
        ),
        ("replicas3", {"PodDisruptionBudget"}),
        ("autoscale", {"HorizontalPodAutoscaler", "PodDisruptionBudget"}),
    ],
)
def test_kinds_follow_scaling(scale, kinds):
    rendered = {o["kind"] for o in render(_workload("flask", "production", scale), STYLE)}
    assert kinds <= rendered
    if scale == "single":
        assert rendered == kinds


def test_every_environment_object_carries_the_labels():
    for obj in render(_workload("express", "pr-7", "autoscale"), STYLE):
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "autostack"
        assert labels["autostack.dev/project"] == "shop"
        if obj["kind"] != "Namespace":  # shared by every environment of the project
            assert labels["autostack.dev/environment"] == "pr-7"
            assert labels["autostack.dev/deployment"] == "42"


def test_deployment_is_hardened_and_probed():
    deployment = _by_kind(render(_workload("fastapi", "production", "single"), STYLE))["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["image"].endswith("@sha256:" + "a" * 64)
    assert container["readinessProbe"]["httpGet"]["path"] == "/"
    assert set(container["resources"]) == {"requests", "limits"}
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_autoscaled_deployment_leaves_replicas_to_the_hpa():
    objects = _by_kind(render(_workload("flask", "production", "autoscale"), STYLE))
    assert "replicas" not in objects["Deployment"]["spec"]
    assert objects["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 2


@pytest.mark.parametrize(
    ("environment", "hosts", "admits_project_pods"),
    [
        ("production", ["shop.apps.example.com", "www.shop.example"], True),
        ("pr-7", ["pr-7--shop.preview.example.com"], False),
        ("branch-staging", ["staging--shop.preview.example.com"], True),
    ],
)
def test_hosts_and_network_policy_per_environment(environment, hosts, admits_project_pods):
    objects = _by_kind(render(_workload("static", environment, "single"), STYLE))
    ingress = objects["Ingress"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == hosts
    assert ingress["spec"]["tls"][0]["hosts"] == hosts
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    sources = objects["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert sources[0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert (len(sources) == 2) is admits_project_pods


def test_values_survive_yaml_quoting():
    odd = "x: {y}\n'\"<>&"
    style = dataclasses.replace(STYLE, ingress_annotations=(("example.com/odd", odd),))
    workload = dataclasses.replace(_workload("flask", "pr-7", "single"), env={"A": odd})
    objects = _by_kind(render(workload, style))
    assert base64.b64decode(objects["Secret"]["data"]["A"]).decode() == odd
    assert objects["Ingress"]["metadata"]["annotations"]["example.com/odd"] == odd


def test_plan_carries_autoscale_and_resources_from_config():
    config = parse_config("run:\n  autoscale: {min: 2, max: 4}\n  resources: {memory: 1Gi}\n")
    plan = example_plan("flask", config)
    assert plan.autoscale == {"min": 2, "max": 4, "cpu": 80}
    assert plan.resources == {"memory": "1Gi"}
    assert Plan.from_snapshot(plan.snapshot()) == plan
