"""Settings of the optional integrations: the kubernetes target and a Prometheus for traffic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.env_values import SettingsError, int_value, list_value


@dataclass(frozen=True)
class ClusterSettings:
    """The kubernetes target's settings (docs/eks.md §3); read only when AUTOSTACK_TARGET=kubernetes."""

    region: str
    sources_bucket: str
    in_cluster: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    eks_cluster: str | None = None
    ingress_class: str = "nginx"
    ingress_namespace: str = "ingress-nginx"
    ingress_annotations: tuple[tuple[str, str], ...] = ()
    cert_issuer: str = "letsencrypt"
    ecr_prefix: str = "autostack"
    ecr_keep: int = 10
    build_role_arn: str | None = None
    build_credential_seconds: int = 2700


def cluster_settings(env: Mapping[str, str]) -> ClusterSettings:
    """The kubernetes target's settings from the environment."""
    text = {k: env.get(k, "").strip() for k in ("AWS_REGION", "SOURCES_BUCKET", "EKS_CLUSTER", "KUBECONFIG")}
    in_cluster = env.get("KUBE_IN_CLUSTER", "").strip() in ("1", "true", "yes")
    ways = [
        name for name, on in (("KUBE_IN_CLUSTER", in_cluster), ("EKS_CLUSTER", text["EKS_CLUSTER"])) if on
    ]
    if len(ways) > 1:
        raise SettingsError(
            "KUBE_IN_CLUSTER and EKS_CLUSTER are both set; keep the one way to reach the cluster"
        )
    for name in ("AWS_REGION", "SOURCES_BUCKET"):
        if not text[name]:
            raise SettingsError(f"AUTOSTACK_TARGET=kubernetes needs {name} (see docs/eks.md); it is not set")
    annotations = []
    for pair in list_value(env, "INGRESS_ANNOTATIONS"):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"INGRESS_ANNOTATIONS: {pair!r} is not key=value")
        annotations.append((key.strip(), value.strip()))
    return ClusterSettings(
        region=text["AWS_REGION"],
        sources_bucket=text["SOURCES_BUCKET"],
        in_cluster=in_cluster,
        kubeconfig=text["KUBECONFIG"] or None,
        context=env.get("KUBE_CONTEXT", "").strip() or None,
        eks_cluster=text["EKS_CLUSTER"] or None,
        ingress_class=env.get("INGRESS_CLASS", "").strip() or "nginx",
        ingress_namespace=env.get("INGRESS_NAMESPACE", "").strip() or "ingress-nginx",
        ingress_annotations=tuple(annotations),
        cert_issuer=env.get("CERT_ISSUER", "").strip() or "letsencrypt",
        ecr_prefix=env.get("ECR_PREFIX", "").strip() or "autostack",
        ecr_keep=int_value(env, "ECR_KEEP_IMAGES", 10, low=1, high=1000),
        build_role_arn=_role_arn(env.get("BUILD_ROLE_ARN", "").strip()),
        # STS's floor, and the one-hour cap AWS puts on a session assumed from an assumed role
        build_credential_seconds=int_value(env, "BUILD_CREDENTIAL_SECONDS", 2700, low=900, high=3600),
    )


def _role_arn(text: str) -> str | None:
    if text and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", text):
        raise SettingsError(
            f"BUILD_ROLE_ARN={text!r} is not an IAM role ARN; "
            "e.g. arn:aws:iam::123456789012:role/autostack-builder"
        )
    return text or None


@dataclass(frozen=True)
class PrometheusSettings:
    """A Prometheus server scraping ingress-nginx: the analytics page's traffic comes from it."""

    url: str
    token: str | None = field(default=None, repr=False)
    # "exported_namespace" when the scrape does not honour the metric's own labels (ServiceMonitor
    # without honorLabels): Prometheus then renames the metric's namespace label
    namespace_label: str = "namespace"


def prometheus_settings(env: Mapping[str, str]) -> PrometheusSettings | None:
    """The Prometheus to read ingress traffic from, or None when PROMETHEUS_URL is unset."""
    url = env.get("PROMETHEUS_URL", "").strip().rstrip("/")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"PROMETHEUS_URL={url!r} must be an http(s) URL, e.g. http://prometheus:9090")
    label = env.get("PROMETHEUS_NAMESPACE_LABEL", "").strip() or "namespace"
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise SettingsError(f"PROMETHEUS_NAMESPACE_LABEL={label!r} is not a label name; e.g. namespace")
    return PrometheusSettings(url, env.get("PROMETHEUS_TOKEN", "").strip() or None, label)
