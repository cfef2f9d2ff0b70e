"""Pure rendering of one environment's objects from its plan and config (templates in manifests/)."""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from deployer.plan import Plan
from deployer.targets.base import Site
from store.environment_names import PRODUCTION, environment_kind, host_label

TEMPLATES = Path(__file__).resolve().parents[3] / "manifests"
MANAGED_BY = {"app.kubernetes.io/managed-by": "autostack"}
PROJECT, ENVIRONMENT, DEPLOYMENT, KIND = (
    "autostack.dev/project",
    "autostack.dev/environment",
    "autostack.dev/deployment",
    "autostack.dev/kind",
)
# Frameworks whose servers write next to their code at run time (Next.js' .next/cache; a
# Dockerfile we know nothing about) keep a writable root filesystem; the rest get /tmp only.
WRITABLE_ROOT = frozenset({"nextjs", "docker"})
NAMESPACE_PREFIX = "autostack-"  # one namespace per project; the web page's traffic queries match it
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined, autoescape=False
)


@dataclass(frozen=True, slots=True)
class ClusterStyle:
    """Cluster-wide choices from settings: domains, ingress class and annotations, TLS issuer."""

    apps_domain: str
    preview_domain: str
    ingress_class: str = "nginx"
    ingress_annotations: tuple[tuple[str, str], ...] = ()
    cluster_issuer: str = "letsencrypt"
    ingress_namespace: str = "ingress-nginx"
    namespace_prefix: str = NAMESPACE_PREFIX


@dataclass(frozen=True, slots=True)
class Workload:
    """One environment's release: what runs (image by digest), with what env, on which hosts."""

    site: Site
    plan: Plan
    image: str
    env: dict[str, str] = field(default_factory=dict)
    domains: tuple[str, ...] = ()  # verified custom domains of this environment


def namespace_for(project: str, style: ClusterStyle) -> str:
    """The project's namespace."""
    return f"{style.namespace_prefix}{project}"


def host_for(project: str, environment: str, style: ClusterStyle) -> str:
    """`<project>.<apps domain>`, `pr-7--<project>.<preview domain>`, `<slug>--<project>.<…>`."""
    if environment == PRODUCTION:
        return f"{project}.{style.apps_domain}"
    return f"{host_label(environment)}--{project}.{style.preview_domain}"


def tls_secret_for(environment: str) -> str:
    """The Ingress' TLS secret; cert-manager's ingress-shim names its Certificate after it."""
    return f"{environment}-tls"


def environment_selector(project: str, environment: str) -> dict[str, str]:
    """The labels that select every object of one environment (prune and teardown use them)."""
    return {**MANAGED_BY, PROJECT: project, ENVIRONMENT: environment}


def _site_view(site: Site, domains: tuple[str, ...], style: ClusterStyle) -> dict[str, Any]:
    """What the templates need that comes from the site alone (all the Ingress needs)."""
    selector = environment_selector(site.project, site.environment)
    return {
        "project": site.project,
        "namespace": namespace_for(site.project, style),
        "name": site.environment,
        "kind": environment_kind(site.environment),
        "secret_name": f"{site.environment}-env",
        "tls_secret": tls_secret_for(site.environment),
        "selector": selector,
        "labels": {
            **selector,
            DEPLOYMENT: str(site.deployment_id),
            KIND: environment_kind(site.environment),
        },
        "hosts": [host_for(site.project, site.environment, style), *sorted(set(domains))],
    }


def _view(w: Workload, style: ClusterStyle) -> dict[str, Any]:
    plan = w.plan
    env = dict(sorted(w.env.items()))
    return {
        **_site_view(w.site, w.domains, style),
        "image": w.image,
        "port": plan.port,
        "replicas": plan.replicas,
        "autoscale": plan.autoscale,
        "health_path": plan.health_path,
        "startup_failures": max(1, math.ceil(plan.health_timeout / 5)),
        "progress_deadline": plan.health_timeout + 60,
        "read_only_root": plan.framework not in WRITABLE_ROOT,
        "cpu_request": plan.resources.get("cpu", "100m"),
        "cpu_limit": plan.resources.get("cpu", "1"),
        "memory": plan.resources.get("memory", "256Mi"),
        "env_b64": {k: base64.b64encode(v.encode()).decode() for k, v in env.items()},
        # a changed variable changes the pod template, so pods restart with the new values
        "env_digest": hashlib.sha256(repr(env).encode()).hexdigest(),
    }


def template_names(w: Workload) -> list[str]:
    """The templates one workload renders, in apply order (namespace first)."""
    names = ["namespace", "serviceaccount", "secret", "deployment", "service", "ingress"]
    autoscale = w.plan.autoscale
    if autoscale:
        names.append("hpa")
    if w.plan.replicas > 1 or (autoscale and autoscale["min"] > 1):
        names.append("pdb")
    return [*names, "networkpolicy"]


def render(w: Workload, style: ClusterStyle) -> list[dict[str, Any]]:
    """Every object of the environment, as API-ready dicts, in apply order."""
    view = _view(w, style)
    return [
        yaml.safe_load(_env.get_template(f"{name}.yaml.j2").render(w=view, s=style))
        for name in template_names(w)
    ]


def render_ingress(site: Site, domains: tuple[str, ...], style: ClusterStyle) -> dict[str, Any]:
    """The environment's Ingress alone, exactly as `render` makes it (a domain refresh applies it)."""
    ingress: dict[str, Any] = yaml.safe_load(
        _env.get_template("ingress.yaml.j2").render(w=_site_view(site, domains, style), s=style)
    )
    return ingress


def render_yaml(w: Workload, style: ClusterStyle) -> str:
    """The rendered objects as one multi-document YAML text (golden files, dry runs)."""
    return yaml.safe_dump_all(render(w, style), sort_keys=False)


def render_object(template: str, **values: Any) -> dict[str, Any]:
    """One object from a template of manifests/ (the build Job and its registry Secret)."""
    manifest: dict[str, Any] = yaml.safe_load(_env.get_template(f"{template}.yaml.j2").render(**values))
    return manifest
