"""The kubernetes target: builds images in the cluster, applies rendered objects, watches rollouts."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from kubernetes import client

from deployer.plan import Plan
from deployer.runtime_logs import RuntimeLine, RuntimeQuery
from deployer.targets.base import (
    Artifact,
    BuildEnv,
    CertificateState,
    DomainSource,
    LogFn,
    PhaseFn,
    Release,
    Site,
    TargetError,
    no_domains,
)
from deployer.targets.kubernetes import dockerfile
from deployer.targets.kubernetes.apply import Cluster, FieldConflict
from deployer.targets.kubernetes.buildjob import BuildSpec, run_build
from deployer.targets.kubernetes.certificates import certificate_states
from deployer.targets.kubernetes.oneoff import OneOff, run_oneoff
from deployer.targets.kubernetes.podlogs import PodLogs
from deployer.targets.kubernetes.pushscope import NO_BUILDER_ROLE, BuildRepositories, PushCredential
from deployer.targets.kubernetes.render import (
    DEPLOYMENT,
    ClusterStyle,
    Workload,
    environment_selector,
    host_for,
    namespace_for,
    render,
    render_ingress,
    render_object,
    tls_secret_for,
)
from deployer.targets.kubernetes.rollout import watch_rollout


class SourceStore(Protocol):
    """Where build Jobs fetch their source from (S3 in production)."""

    def put(self, project: str, deployment_id: int, tarball: bytes) -> str:
        """Store the tarball; return a URL the build pod can GET."""
        ...


class ImageRegistry(Protocol):
    """The registry calls a build needs (ECR in production)."""

    def ensure(self, project: str, *, untrusted: bool = False) -> BuildRepositories:
        """The repositories a (fork's, when `untrusted`) build of the project uses, created if missing."""
        ...

    def push_credential(self, repos: BuildRepositories, project: str, deployment_id: int) -> PushCredential:
        """A credential for one build that can push to `repos` and read its cache, nothing else."""
        ...

    def forget_environment(self, project: str, environment: str) -> int:
        """Delete a destroyed environment's image tags."""
        ...


@dataclass(eq=False)
class KubeRelease:
    """An applied render whose rollout is still to be watched."""

    site: Site
    namespace: str
    url: str

    @property
    def address(self) -> str:
        """The environment's public URL (Service and Ingress route by readiness)."""
        return self.url

    async def stop(self) -> None:
        """Nothing to stop: with maxUnavailable 0 the previous ReplicaSet is still serving."""


def tarball(folder: Path, extra: dict[str, str]) -> bytes:
    """A gzipped tar of `folder` plus generated files (the Dockerfile), minus .git.

    The build pod unpacks it with busybox tar into /workspace, so each name appears once (a
    generated file replaces the repository's own) and links that lead out of `folder` are left
    out: in the pod they would point into the fetch container instead of the repository.
    """
    root = folder.resolve()

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = PurePosixPath(info.name).parts  # "./a/b" -> ("a", "b")
        if parts[:1] == (".git",) or (len(parts) == 1 and parts[0] in extra):
            return None
        if info.issym():
            resolved = os.path.realpath(root.joinpath(*parts))
            if os.path.commonpath([root, resolved]) != str(root):
                return None
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(root, arcname=".", filter=keep)
        for name, text in extra.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class KubernetesTarget:
    """Implements `Target` on a Kubernetes cluster (EKS in production)."""

    def __init__(
        self,
        cluster: Cluster,
        style: ClusterStyle,
        registry: ImageRegistry,
        sources: SourceStore,
        *,
        build_timeout: int = 1800,
        domains: DomainSource = no_domains,
        build_cache_size: str = "20Gi",
    ) -> None:
        self.cluster, self.style, self.registry, self.sources = cluster, style, registry, sources
        self.build_timeout = build_timeout
        self.build_cache_size = build_cache_size  # each environment's BuildKit state volume; "" for none
        self.domains = domains

    def runtime_log(self, project: str, environment: str, query: RuntimeQuery) -> AsyncIterator[RuntimeLine]:
        """The environment's pods' app container logs through the API (tail, since, previous, follow)."""
        core = client.CoreV1Api(self.cluster.api)
        pods = PodLogs(core, namespace_for(project, self.style), environment_selector(project, environment))
        return pods.read(query)

    def url_for(self, project: str, environment: str) -> str:
        """https://<host> of the environment (docs/product.md §2)."""
        return f"https://{host_for(project, environment, self.style)}"

    async def certificates(
        self, project: str, environment: str, hostnames: Sequence[str]
    ) -> dict[str, CertificateState]:
        """cert-manager's view of each host's certificate, in the project's namespace."""
        namespace = namespace_for(project, self.style)
        return await asyncio.to_thread(
            certificate_states, self.cluster, namespace, hostnames, tls_secret_for(environment)
        )

    async def build(
        self, site: Site, source: Path, plan: Plan, log: LogFn, phase: PhaseFn, env: BuildEnv | None = None
    ) -> Artifact:
        """Build and push the image in the cluster; the artifact is the image by digest. Plain
        variables are build arguments, secrets BuildKit secrets (never in a layer)."""
        env = env or BuildEnv()
        await phase("build")
        namespace = namespace_for(site.project, self.style)
        repos = await asyncio.to_thread(self.registry.ensure, site.project, untrusted=site.untrusted)
        credential = await asyncio.to_thread(
            self.registry.push_credential, repos, site.project, site.deployment_id
        )
        if not credential.scoped:
            await log(f"warning: {NO_BUILDER_ROLE}")
        extra = {}
        if plan.dockerfile is None:
            extra[dockerfile.GENERATED_NAME] = dockerfile.generate(plan, env.plain, env.secrets)
            await log(f"no Dockerfile in the repository: using one generated for {plan.framework}")
        data = await asyncio.to_thread(tarball, source / plan.root, extra)
        url = await asyncio.to_thread(self.sources.put, site.project, site.deployment_id, data)
        namespace_object = render_object("namespace", w={"namespace": namespace, "project": site.project})
        await asyncio.to_thread(self.cluster.apply, [namespace_object])
        spec = BuildSpec(
            site=site,
            namespace=namespace,
            image_repo=repos.images.uri,
            cache_repo=repos.cache.uri,
            source_url=url,
            dockerfile=plan.dockerfile or dockerfile.GENERATED_NAME,
            docker_config=credential.docker_config,
            timeout=self.build_timeout,
            production_cache=repos.production_cache.uri,
            build_args=env.plain,
            secrets=env.secrets,
            cache_size=self.build_cache_size,
        )
        digest = await run_build(self.cluster, spec, log)
        image = f"{repos.images.uri}@{digest}"
        return Artifact(image, facts={"image": image})

    async def release(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
    ) -> KubeRelease:
        """Apply the environment's objects with the artifact's image, then prune what left the render.

        `secrets` is unused: the app's output stays in its pods, AutoStack forwards none of it."""
        if "@sha256:" not in artifact.ref:
            raise TargetError(f"{artifact.ref!r} is not an image digest; deploy the commit again")
        domains = await self.domains(site.project, site.environment)
        objects = render(Workload(site, plan, artifact.ref, env, domains), self.style)
        if domains:
            await log(f"custom domains: {', '.join(domains)}")
        namespace = namespace_for(site.project, self.style)
        await asyncio.to_thread(self.cluster.apply, objects)
        selector = environment_selector(site.project, site.environment)
        pruned = await asyncio.to_thread(self.cluster.prune, namespace, selector, objects)
        await log(
            f"applied {len(objects)} objects to {namespace}"
            + (f"; pruned {', '.join(pruned)}" if pruned else "")
        )
        return KubeRelease(site, namespace, self.url_for(site.project, site.environment))

    async def run_once(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        command: str,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
        what: str = "release",
    ) -> None:
        """Run `command` as a Job of the artifact's image with the deployment's env; the old
        version keeps serving meanwhile (nothing of the environment's Deployment changes)."""
        if "@sha256:" not in artifact.ref:
            raise TargetError(f"{artifact.ref!r} is not an image digest; deploy the commit again")
        run = OneOff(
            site,
            namespace_for(site.project, self.style),
            artifact.ref,
            command,
            what,
            plan,
            env,
            self.build_timeout,
        )
        await log(f"{what} job {run.namespace}/{run.name} started")
        await run_oneoff(self.cluster, run, log)

    async def refresh_domains(self, project: str, environment: str) -> None:
        """Server-side apply the environment's Ingress alone with its verified domains, read now;
        an environment with no Ingress (never released, or destroyed) is left to its next release."""
        namespace = namespace_for(project, self.style)
        for attempt in range(2):
            current = await asyncio.to_thread(self.cluster.get, namespace, "Ingress", environment)
            if current is None:
                return
            meta = current["metadata"]
            # the deployment label stays the running release's; the uid is a precondition, so an
            # Ingress deleted meanwhile (environment destroyed) is not brought back by this apply
            site = Site(project, environment, int((meta.get("labels") or {}).get(DEPLOYMENT, "0")))
            ingress = render_ingress(site, await self.domains(project, environment), self.style)
            ingress["metadata"]["uid"] = meta["uid"]
            try:
                await asyncio.to_thread(self.cluster.apply, [ingress])
                return
            except FieldConflict:
                if attempt:  # replaced twice while refreshing, or another manager owns the fields
                    raise

    async def health(self, release: Release, plan: Plan, log: LogFn) -> None:
        """Watch the rollout until every new pod is available (readiness probes passed)."""
        if not isinstance(release, KubeRelease):
            raise TypeError(f"the kubernetes target did not start {release!r}")
        site = release.site
        limit = plan.health_timeout + 60
        await watch_rollout(
            self.cluster.api, release.namespace, site.environment, site.deployment_id, limit, log
        )

    async def switch(self, site: Site, release: Release) -> str:
        """Nothing to switch: the Service already routes to the new, Ready pods."""
        if not isinstance(release, KubeRelease):
            raise TypeError(f"the kubernetes target did not start {release!r}")
        return release.url

    async def destroy(self, project: str, environment: str) -> None:
        """Delete every object of the environment by label, and its image tags."""
        namespace = namespace_for(project, self.style)
        await asyncio.to_thread(self.cluster.teardown, namespace, environment_selector(project, environment))
        await asyncio.to_thread(self.registry.forget_environment, project, environment)
