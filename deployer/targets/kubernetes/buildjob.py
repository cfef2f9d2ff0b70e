"""Image builds in the cluster: a rootless BuildKit Job per deployment, its digest, its cancel."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.targets.base import LogFn, Site, TargetError
from deployer.targets.kubernetes.apply import BUILD_COMPONENT, Cluster
from deployer.targets.kubernetes.buildlog import BuildLogStream
from deployer.targets.kubernetes.errors import wrap_api_error
from deployer.targets.kubernetes.render import (
    DEPLOYMENT,
    KIND,
    environment_selector,
    render_object,
)
from store.environment_names import environment_kind

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
POLL_SECONDS = 1.0
SECRETS_DIR = "/home/user/build-secrets"  # where the build's own Secret is mounted, one file a key
STATE_DIR = "/home/user/.local/share/buildkit"  # BuildKit's state: cache mounts live here


@dataclass(frozen=True, slots=True)
class BuildSpec:
    """One image build: which source, which Dockerfile, where to push and cache."""

    site: Site
    namespace: str
    image_repo: str  # <account>.dkr.ecr.<region>.amazonaws.com/autostack/<project>
    cache_repo: str  # exported to as :<environment>
    source_url: str  # a presigned GET of the source tarball
    dockerfile: str = "Dockerfile"
    docker_config: dict[str, Any] = field(default_factory=dict, repr=False)
    production_cache: str = ""  # read as :production; the cache_repo unless a fork builds
    timeout: int = 1800
    build_args: dict[str, str] = field(default_factory=dict)  # plain variables only
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # reach the build as files
    buildkit_image: str = "moby/buildkit:v0.23.2-rootless"
    fetch_image: str = "busybox:1.37"
    cache_size: str = "20Gi"  # the environment's BuildKit state volume; empty: none, caches die with the pod
    cache_storage_class: str = ""  # the cluster's default class when empty

    @property
    def tag(self) -> str:
        """The image's immutable tag; lifecycle rules match its environment prefix."""
        return f"{self.site.environment}-{self.site.deployment_id}"

    @property
    def cache_claim(self) -> str:
        """The environment's BuildKit state volume claim ("" when builds keep no state)."""
        return f"buildkit-{self.site.environment}" if self.cache_size else ""


def build_script(spec: BuildSpec) -> str:
    """The build container's shell script (pure): build, push, print the digest as the result."""
    env = spec.site.environment
    args = [
        "buildctl-daemonless.sh",
        "build",
        "--frontend=dockerfile.v0",
        "--local=context=/workspace",
        "--local=dockerfile=/workspace",
        f"--opt=filename={spec.dockerfile}",
        f"--output=type=image,name={spec.image_repo}:{spec.tag},push=true",
        f"--export-cache=type=registry,ref={spec.cache_repo}:{env},mode=max,image-manifest=true",
        *(f"--import-cache=type=registry,ref={ref}" for ref in _cache_imports(spec)),
        *(f"--opt=build-arg:{k}={v}" for k, v in sorted(spec.build_args.items())),
        # only the path is in the script: the value stays in the Secret the Job mounts
        *(f"--secret=id={k},src={SECRETS_DIR}/{k}" for k in sorted(spec.secrets)),
        "--metadata-file=/tmp/build.json",
    ]
    if spec.cache_claim:
        # one BuildKit at a time on the volume: a superseded build's pod may still be stopping
        args = ["flock", "-w", str(spec.timeout), f"{STATE_DIR}/.autostack-build.lock", *args]
    digest = 'sed -n \'s/.*"containerimage.digest": *"\\(sha256:[0-9a-f]*\\)".*/\\1/p\' /tmp/build.json'
    return f"set -e; {shlex.join(args)}; {digest} > /dev/termination-log"


def _cache_imports(spec: BuildSpec) -> list[str]:
    refs = [
        f"{spec.cache_repo}:{spec.site.environment}",
        f"{spec.production_cache or spec.cache_repo}:production",
    ]
    return list(dict.fromkeys(refs))


def cache_objects(spec: BuildSpec) -> list[dict[str, Any]]:
    """The environment's BuildKit state claim, when builds keep one (pure). It outlives every
    build, so neither the Job owns it nor does the build delete it; teardown does."""
    if not spec.cache_claim:
        return []
    site = spec.site
    view = {
        "namespace": spec.namespace,
        "labels": {
            **environment_selector(site.project, site.environment),
            KIND: environment_kind(site.environment),
            BUILD_COMPONENT[0]: BUILD_COMPONENT[1],  # not rendered with the release: prune skips it
        },
        "cache_claim": spec.cache_claim,
        "cache_size": spec.cache_size,
        "cache_storage_class": spec.cache_storage_class,
    }
    return [render_object("build-cache", b=view)]


def build_objects(spec: BuildSpec) -> list[dict[str, Any]]:
    """The build's own Secrets (registry credential; the build secrets when there are any) and
    the build Job, in apply order (pure)."""
    site = spec.site
    view = {
        "name": f"build-{site.deployment_id}",
        "namespace": spec.namespace,
        "labels": {
            **environment_selector(site.project, site.environment),
            DEPLOYMENT: str(site.deployment_id),
            KIND: environment_kind(site.environment),
            BUILD_COMPONENT[0]: BUILD_COMPONENT[1],
        },
        "timeout": spec.timeout,
        "source_url": spec.source_url,
        "script": build_script(spec),
        "buildkit_image": spec.buildkit_image,
        "fetch_image": spec.fetch_image,
        "registry_secret": f"build-{site.deployment_id}-registry",
        "docker_config_b64": base64.b64encode(json.dumps(spec.docker_config).encode()).decode(),
        "build_secret": f"build-{site.deployment_id}-secrets" if spec.secrets else "",
        "secrets_dir": SECRETS_DIR,
        "secrets_b64": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(spec.secrets.items())},
        "cache_claim": spec.cache_claim,
    }
    secrets = [render_object("registry-secret", b=view)]
    if spec.secrets:
        secrets.append(render_object("build-secrets", b=view))
    return [*secrets, render_object("build-job", b=view)]


async def run_build(cluster: Cluster, spec: BuildSpec, log: LogFn) -> str:
    """Run the build Job to its end, streaming its log; return the pushed image's digest.

    Cancelling the awaiting task (a superseded deployment) stops the stream and deletes the Job
    and its pod.
    """
    *secrets, job_object = build_objects(spec)
    job, credentials = job_object["metadata"]["name"], [s["metadata"]["name"] for s in secrets]
    try:
        await asyncio.to_thread(cluster.apply, [*cache_objects(spec), *secrets, job_object])
        for secret in secrets:
            await asyncio.to_thread(owned_by_job, cluster, secret, job)
    except BaseException:  # a Job left without its owned credential would wait for it in vain
        await asyncio.to_thread(cluster.delete, spec.namespace, "Job", job)
        for credential in credentials:
            await asyncio.to_thread(cluster.delete, spec.namespace, "Secret", credential)
        raise
    await log(f"image build {spec.namespace}/{job} started")
    batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
    stream = BuildLogStream(core, spec.namespace, job, log)
    stream.start()
    deadline = time.monotonic() + spec.timeout + 60
    try:
        while time.monotonic() < deadline:
            outcome = await asyncio.to_thread(_outcome, batch, core, spec.namespace, job)
            if outcome is not None:
                succeeded, message, pod = outcome
                await stream.finish(pod)
                if not succeeded:
                    raise TargetError(
                        f"image build failed: {message or 'the build container exited non-zero'}"
                    )
                if not DIGEST.match(message):
                    raise TargetError(f"image build finished without a digest (it reported {message!r})")
                await log(f"pushed {spec.image_repo}@{message}")
                return message
            await asyncio.sleep(POLL_SECONDS)
        raise TargetError(f"image build {job} did not finish within {spec.timeout}s")
    except asyncio.CancelledError:
        await asyncio.to_thread(cluster.delete, spec.namespace, "Job", job)
        raise
    finally:
        await stream.cancel()  # idempotent: a no-op once finish() has run
        # the push credential and build secrets live only as long as the build, whatever its outcome
        for credential in credentials:
            await asyncio.to_thread(cluster.delete, spec.namespace, "Secret", credential)


def owned_by_job(cluster: Cluster, secret: dict[str, Any], job: str) -> None:
    """Make the Job own its credential Secret, so that the garbage collector deletes the Secret
    with the Job even when AutoStack stops before it can delete it itself."""
    namespace = secret["metadata"]["namespace"]
    found = cluster.get(namespace, "Job", job)
    if found is None:
        raise TargetError(f"build job {namespace}/{job} vanished as it was created")
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": job, "uid": found["metadata"]["uid"]}
    cluster.apply([{**secret, "metadata": {**secret["metadata"], "ownerReferences": [owner]}}])


def _outcome(
    batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str, job: str
) -> tuple[bool, str, str | None] | None:
    """(succeeded, termination message, pod name) once the Job has finished, else None."""
    try:
        status = batch.read_namespaced_job_status(job, namespace).status
        finished = {c.type for c in status.conditions or [] if c.status == "True"} & {"Complete", "Failed"}
        if not finished:
            return None
        pods = core.list_namespaced_pod(namespace, label_selector=f"batch.kubernetes.io/job-name={job}")
    except (ApiException, HTTPError) as exc:
        raise wrap_api_error(exc, f"reading build job {namespace}/{job}") from exc
    ended = [
        (pod.metadata.name, s.state.terminated.message or "")
        for pod in pods.items
        for s in pod.status.container_statuses or []
        if s.state and s.state.terminated
    ]
    pod, message = ended[0] if ended else (None, "")
    return "Complete" in finished, message.strip(), pod
