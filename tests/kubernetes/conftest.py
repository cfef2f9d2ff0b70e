"""Shared inputs for the kubernetes target's tests: example plans and a cluster style."""

from __future__ import annotations

from pathlib import Path

from deployer.config import RepoConfig
from deployer.detect import detect
from deployer.plan import Plan, make_plan
from deployer.targets.kubernetes.render import ClusterStyle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STYLE = ClusterStyle(
    apps_domain="apps.example.com",
    preview_domain="preview.example.com",
    ingress_annotations=(("nginx.ingress.kubernetes.io/proxy-body-size", "10m"),),
)
DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/autostack/shop@sha256:" + "a" * 64


def example_plan(name: str, config: RepoConfig | None = None) -> Plan:
    """The plan AutoStack makes for an example app."""
    return make_plan(config or RepoConfig(), detect(EXAMPLES / name))
