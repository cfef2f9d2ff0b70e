"""How AutoStack reaches a cluster: in-cluster service account, a kubeconfig, or EKS by name."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from deployer.targets.kubernetes.aws import EksToken, describe_cluster, eks_clients
from deployer.targets.kubernetes.errors import ClusterError


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    """One of: `in_cluster`, a kubeconfig `path` (+ `context`), or an EKS `eks_cluster` in `region`."""

    in_cluster: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    eks_cluster: str | None = None
    region: str | None = None

    def describe(self) -> str:
        """Where the client connects, for logs and error messages."""
        if self.in_cluster:
            return "the in-cluster service account"
        if self.eks_cluster:
            return f"EKS cluster {self.eks_cluster} in {self.region}"
        return f"kubeconfig {self.kubeconfig or '~/.kube/config'}" + (
            f" context {self.context}" if self.context else ""
        )


def api_client(access: ClusterAccess) -> client.ApiClient:
    """An ApiClient for `access`; an EKS token is made again before it expires."""
    configuration = client.Configuration()
    try:
        if access.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        elif access.eks_cluster:
            _eks(configuration, access.eks_cluster, access.region or "")
        else:
            config.load_kube_config(
                config_file=access.kubeconfig, context=access.context, client_configuration=configuration
            )
    except (ConfigException, OSError) as exc:
        raise ClusterError(f"reaching {access.describe()}: {exc}") from exc
    return client.ApiClient(configuration)


def _eks(configuration: client.Configuration, name: str, region: str) -> None:
    sts, eks = eks_clients(region)
    cluster = describe_cluster(eks, name)
    with tempfile.NamedTemporaryFile("wb", prefix=f"eks-{name}-", suffix=".crt", delete=False) as ca:
        ca.write(cluster.ca_pem)
    token = EksToken(sts, name)
    configuration.host = cluster.endpoint
    configuration.ssl_ca_cert = ca.name
    configuration.api_key = {"authorization": token()}
    configuration.api_key_prefix = {"authorization": "Bearer"}

    def refresh(conf: Any) -> None:
        conf.api_key["authorization"] = token()

    configuration.refresh_api_key_hook = refresh
