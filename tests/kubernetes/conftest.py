"""Shared inputs for the kubernetes target's tests: example plans, a cluster style, and a watch
on ECR token requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deployer.config import RepoConfig
from deployer.detect import detect
from deployer.plan import Plan, make_plan
from deployer.targets.kubernetes.ecr import ecr_with
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


class Signed:
    """Each ECR token request of the watched clients: the access key that signed it, and the
    token it got back."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.tokens: list[str] = []

    def watch(self, ecr: Any) -> Any:
        """Watch `ecr`'s token requests; return it."""

        def sent(request: Any, **_: Any) -> None:
            header = request.headers["Authorization"]
            header = header.decode() if isinstance(header, bytes) else header
            self.keys.append(header.split("Credential=")[1].split("/")[0])

        def answered(parsed: dict[str, Any], **_: Any) -> None:
            self.tokens.append(parsed["authorizationData"][0]["authorizationToken"])

        ecr.meta.events.register("before-send.ecr.GetAuthorizationToken", sent)
        ecr.meta.events.register("after-call.ecr.GetAuthorizationToken", answered)
        return ecr

    def client(self, credentials: dict[str, Any], region: str, endpoint_url: str | None) -> Any:
        """A build session's ECR client (the Registry's `ecr_for`), watched."""
        return self.watch(ecr_with(credentials, region, endpoint_url))
