"""What a process deploys with: the target (local processes or a cluster) with its live-app
watch, the reporter hub that turns deployer events into GitHub reports, and the deploy
service the pages and the API act through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot import deploy_service as api_deploy
from bot.phase_timer import PhaseTimer
from bot.reporter.hub import ReporterHub
from bot.reporter.ledger import RedisLedger
from bot.services import Services
from bot.settings import Settings, SettingsError, local_secret
from bot.worker.deploy_jobs import DeployRuntime
from bot.worker.queue import DEPLOY_QUEUE
from deployer.envvars import env_provider, project_secrets
from deployer.live_state import LiveStates
from deployer.operations import restore
from deployer.targets.local.target import LocalTarget
from handlers.jobs import REFRESH_DOMAINS, RUN_DEPLOYMENT, deployment_job_id

if TYPE_CHECKING:
    from deployer.targets.kubernetes.options import KubernetesOptions
    from deployer.targets.kubernetes.target import KubernetesTarget

log = logging.getLogger("autostack.serve")


def kubernetes_options(settings: Settings) -> KubernetesOptions:
    """The kubernetes target's options from AUTOSTACK_TARGET=kubernetes settings."""
    # the kubernetes client and boto3 cost ~1.2 s and tens of MB; only this target loads them
    from deployer.targets.kubernetes.access import ClusterAccess
    from deployer.targets.kubernetes.options import KubernetesOptions
    from deployer.targets.kubernetes.render import ClusterStyle

    cluster = settings.cluster
    if cluster is None or not settings.apps_domain or not settings.preview_domain:
        raise SettingsError(
            "AUTOSTACK_TARGET=kubernetes needs APPS_DOMAIN and PREVIEW_DOMAIN (see docs/eks.md)"
        )
    access = ClusterAccess(
        in_cluster=cluster.in_cluster,
        kubeconfig=cluster.kubeconfig,
        context=cluster.context,
        eks_cluster=cluster.eks_cluster,
        region=cluster.region,
    )
    style = ClusterStyle(
        apps_domain=settings.apps_domain,
        preview_domain=settings.preview_domain,
        ingress_class=cluster.ingress_class,
        ingress_annotations=cluster.ingress_annotations,
        cluster_issuer=cluster.cert_issuer,
        ingress_namespace=cluster.ingress_namespace,
    )
    return KubernetesOptions(
        access,
        style,
        cluster.region,
        cluster.sources_bucket,
        cluster.ecr_prefix,
        cluster.ecr_keep,
        builder_role=cluster.build_role_arn,
        build_credential_seconds=cluster.build_credential_seconds,
    )


def reporter_hub(services: Services) -> ReporterHub:
    """The process's reporter: deployer events in, GitHub reports out, off the builds' path."""
    settings = services.settings
    return ReporterHub(
        services.sessions,
        services.apps,
        settings.base_url,
        lambda project_id: project_secrets(services.sessions, services.keyring, project_id),
        source_roots=(str(settings.data_dir),),
        ledger=RedisLedger(services.queue, DEPLOY_QUEUE),
        observe=PhaseTimer(services.metrics.phase_seconds, services.metrics.deployments_finished).observe,
    )


@contextlib.asynccontextmanager
async def deploy_runtime(services: Services, *, watch_apps: bool = True) -> AsyncIterator[DeployRuntime]:
    """The target deployments go to, started (router up, environments restored) and stopped;
    on a cluster, where this process deploys (`watch_apps`), its live apps' pods are watched.
    The reports still queued when it stops are sent first (the last deployments' outcomes)."""
    hub = reporter_hub(services)
    try:
        async with _target_runtime(services, hub, watch_apps=watch_apps) as runtime:
            yield runtime
    finally:
        await hub.close()


@contextlib.asynccontextmanager
async def _target_runtime(
    services: Services, hub: ReporterHub, *, watch_apps: bool
) -> AsyncIterator[DeployRuntime]:
    settings = services.settings
    if settings.cluster is not None:  # the cluster keeps running its environments: nothing to restore
        from deployer.targets.kubernetes.options import make_target  # see kubernetes_options

        cluster = await asyncio.to_thread(make_target, kubernetes_options(settings), services.sessions)
        runtime = DeployRuntime(
            target=cluster, work_dir=settings.data_dir / "work", hub=hub, stops=services.stops
        )
        if not watch_apps:
            yield runtime
            return
        async with _watching_pods(services, cluster, hub):
            yield runtime
        return
    # a live app's crash or failing health check is stored and reported through the hub
    live_states = LiveStates(services.sessions, hub)
    target = LocalTarget(
        settings.data_dir, router_port=settings.router_port, on_app_state=live_states.changed
    )
    # a serve killed outright left its apps and builds running: stop them before starting any
    reaped = await target.reap_orphans()
    if reaped:
        log.warning("stopped %d processes a previous run left behind", len(reaped))
    await target.start_router()
    # restored in the background, so /healthz and the page answer while apps start again
    restoring = asyncio.create_task(_restore(services, target), name="restore-environments")
    try:
        yield DeployRuntime(
            target=target,
            work_dir=settings.data_dir / "work",
            hub=hub,
            router=target.router,
            stops=services.stops,
        )
    finally:
        restoring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await restoring
        await target.close()


@contextlib.asynccontextmanager
async def _watching_pods(
    services: Services, cluster: KubernetesTarget, hub: ReporterHub
) -> AsyncIterator[None]:
    """Crashes, restart loops and failing readiness of live apps' pods, stored and reported."""
    from deployer.targets.kubernetes.pod_watch import watch_target  # see kubernetes_options

    sessions = services.sessions
    watcher = watch_target(
        cluster,
        sessions,
        LiveStates(sessions, hub).changed,
        lambda project_id: project_secrets(sessions, services.keyring, project_id),
    )
    task = asyncio.create_task(watcher.run(), name="watch-app-pods")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _restore(services: Services, target: LocalTarget) -> None:
    started = time.monotonic()
    restored = await restore(services.sessions, target, env_provider(services.sessions, services.keyring))
    log.info(
        "router on port %d; %d environments restored in %.1f s",
        target.router_port,
        len(restored),
        time.monotonic() - started,
    )


def deploy_service(services: Services, runtime: DeployRuntime) -> api_deploy.DeployService:
    """The deploy API's view of this server; the local admin token exists on embedded defaults."""
    settings = services.settings

    async def enqueue(deployment_id: int) -> None:
        queue = await services.queue()
        await queue.enqueue(RUN_DEPLOYMENT, deployment_id, job_id=deployment_job_id(deployment_id))

    async def domains_changed(project: str, environment: str) -> None:
        await (await services.queue()).enqueue(REFRESH_DOMAINS, project, environment)

    admin = local_secret(settings.data_dir, "admin-token") if settings.embedded_database else None
    return api_deploy.DeployService(
        services.sessions,
        settings.data_dir,
        enqueue,
        runtime.target,
        runtime.hub,
        admin_token=admin,
        domains_changed=domains_changed,
        retention=settings.retention,
        stops=runtime.stops,
    )
