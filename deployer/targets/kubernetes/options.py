"""The kubernetes target assembled from settings: cluster access, cluster style, ECR and S3."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.domains import verified_domains
from deployer.targets.base import no_domains
from deployer.targets.kubernetes.access import ClusterAccess, api_client
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.aws import ecr_registry, s3_sources
from deployer.targets.kubernetes.render import ClusterStyle
from deployer.targets.kubernetes.target import KubernetesTarget


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


def make_target(
    options: KubernetesOptions, sessions: async_sessionmaker[AsyncSession] | None = None
) -> KubernetesTarget:
    """A KubernetesTarget connected as `options` say (EKS describe happens here, once); its
    Ingresses carry the verified custom domains read from `sessions`."""
    return KubernetesTarget(
        Cluster(api_client(options.access)),
        options.style,
        ecr_registry(options.region, options.ecr_prefix, options.ecr_keep),
        s3_sources(options.region, options.sources_bucket),
        build_timeout=options.build_timeout,
        domains=verified_domains(sessions) if sessions is not None else no_domains,
    )
