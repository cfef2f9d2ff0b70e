"""The reconciler: environments found in the cluster that the database says should not exist go."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.errors import wrap_api_error
from deployer.targets.kubernetes.render import ENVIRONMENT, MANAGED_BY, PROJECT
from deployer.targets.kubernetes.target import KubernetesTarget
from store import cluster_state
from store.db import Sessions

log = logging.getLogger("autostack.reconciler")
# kinds every environment has; an environment whose Deployment is gone still has these
_MARKERS = (("apps/v1", "Deployment"), ("v1", "ServiceAccount"), ("v1", "Service"))


@dataclass(frozen=True, slots=True)
class Reclaimed:
    """One orphaned environment the reconciler removed."""

    project: str
    environment: str


def environments_in_cluster(cluster: Cluster) -> set[tuple[str, str]]:
    """(project, environment) of every AutoStack environment that has objects in the cluster."""
    selector = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())
    found = set()
    for api_version, kind in _MARKERS:
        try:
            items = cluster.resource(api_version, kind).get(label_selector=selector).items
        except (ApiException, HTTPError) as exc:
            raise wrap_api_error(exc, f"listing AutoStack {kind}s") from exc
        for item in items:
            labels = dict(item.metadata.labels or {})
            if PROJECT in labels and ENVIRONMENT in labels:
                found.add((labels[PROJECT], labels[ENVIRONMENT]))
    return found


async def reconcile(sessions: Sessions, target: KubernetesTarget) -> list[Reclaimed]:
    """Destroy every environment the cluster has and the database does not; return them."""
    wanted = await cluster_state.active_environments(sessions)
    present = await asyncio.to_thread(environments_in_cluster, target.cluster)
    reclaimed = []
    for project, environment in sorted(present - wanted):
        await target.destroy(project, environment)
        log.info("reclaimed orphaned environment %s/%s", project, environment)
        reclaimed.append(Reclaimed(project, environment))
    return reclaimed
