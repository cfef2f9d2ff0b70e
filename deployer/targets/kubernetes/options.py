"""The kubernetes target assembled from settings: cluster access, cluster style, ECR and S3."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from deployer.domains import verified_domains
from deployer.targets.base import no_domains
from deployer.targets.kubernetes.access import ClusterAccess, api_client
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.aws import s3_sources
from deployer.targets.kubernetes.ecr import ecr_registry
from deployer.targets.kubernetes.render import ClusterStyle
from deployer.targets.kubernetes.target import KubernetesTarget
from store.db import Sessions

log = logging.getLogger("autostack.kubernetes")


@dataclass(frozen=True, slots=True)
class KubernetesOptions:
    """What the bot's settings say about the cluster (docs/eks.md §3)."""

    access: ClusterAccess
    style: ClusterStyle
    region: str
    sources_bucket: str
    ecr_prefix: str = "autostack"
    ecr_keep: int = 10
    build_timeout: int = 1800
    builder_role: str | None = None  # BUILD_ROLE_ARN: builds push through sessions of this role
    build_credential_seconds: int = 2700


def make_target(options: KubernetesOptions, sessions: Sessions | None = None) -> KubernetesTarget:
    """A KubernetesTarget connected as `options` say (EKS describe happens here, once); its
    Ingresses carry the verified custom domains read from `sessions`."""
    if not options.builder_role:
        log.warning(
            "BUILD_ROLE_ARN is not set: builds hold AutoStack's own ECR credential, which can push "
            "to every project's repositories, and fork builds are refused (docs/eks.md §2)"
        )
    registry = ecr_registry(
        options.region,
        options.ecr_prefix,
        options.ecr_keep,
        options.builder_role,
        options.build_credential_seconds,
    )
    return KubernetesTarget(
        Cluster(api_client(options.access)),
        options.style,
        registry,
        s3_sources(options.region, options.sources_bucket),
        build_timeout=options.build_timeout,
        domains=verified_domains(sessions) if sessions is not None else no_domains,
    )
