"""Release and seed commands on kubernetes: a Job running the app's image with the command
replaced and the deployment's env from a Secret of its own; its log is forwarded when it ends."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.oneoff import first_error_line
from deployer.plan import Plan
from deployer.targets.base import LogFn, Site, TargetError
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.buildjob import owned_by_job
from deployer.targets.kubernetes.errors import wrap_api_error
from deployer.targets.kubernetes.render import (
    DEPLOYMENT,
    KIND,
    MANAGED_BY,
    PROJECT,
    environment_selector,
    render_object,
)
from store.environment_names import environment_kind

COMPONENT = "autostack.dev/component"
POLL_SECONDS = 1.0
LOG_LINES = 500


@dataclass(frozen=True, slots=True)
class OneOff:
    """One run of a command with a release's image and env."""

    site: Site
    namespace: str
    image: str
    command: str
    what: str  # release | seed
    plan: Plan
    env: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: int = 1800

    @property
    def name(self) -> str:
        """The Job's name, one per deployment and command."""
        return f"{self.what}-{self.site.deployment_id}"


def oneoff_objects(run: OneOff) -> list[dict[str, Any]]:
    """The environment's ServiceAccount (a first deployment has none yet; the same object the
    release then applies), the Job's env Secret and the Job (pure), in apply order."""
    site = run.site
    environment_labels = {
        **environment_selector(site.project, site.environment),
        DEPLOYMENT: str(site.deployment_id),
        KIND: environment_kind(site.environment),
    }
    labels = {**environment_labels, COMPONENT: run.what}
    account = {"name": site.environment, "namespace": run.namespace, "labels": environment_labels}
    secret_view = {
        "secret_name": f"{run.name}-env",
        "namespace": run.namespace,
        "labels": labels,
        "env_b64": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(run.env.items())},
    }
    resources = run.plan.resources
    view = {
        "name": run.name,
        "namespace": run.namespace,
        "labels": labels,
        # not the environment label: the Service and the Deployment must never select this pod
        "pod_labels": {
            **MANAGED_BY,
            PROJECT: site.project,
            DEPLOYMENT: str(site.deployment_id),
            COMPONENT: run.what,
        },
        "timeout": run.timeout,
        "service_account": site.environment,
        "container": run.what,
        "image": run.image,
        "command": run.command,
        "secret_name": secret_view["secret_name"],
        "cpu_request": resources.get("cpu", "100m"),
        "cpu_limit": resources.get("cpu", "1"),
        "memory": resources.get("memory", "256Mi"),
    }
    return [
        render_object("serviceaccount", w=account),
        render_object("secret", w=secret_view),
        render_object("oneoff-job", o=view),
    ]


async def run_oneoff(cluster: Cluster, run: OneOff, log: LogFn) -> None:
    """Run the Job to its end and forward its log; TargetError with its first error line when it
    fails. Cancelling deletes the Job (and so its pod and env Secret)."""
    account, secret, job = oneoff_objects(run)
    namespace = run.namespace
    try:
        await asyncio.to_thread(cluster.apply, [account, secret, job])
        await asyncio.to_thread(owned_by_job, cluster, secret, run.name)
        batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
        deadline = time.monotonic() + run.timeout + 60
        while (finished := await asyncio.to_thread(_finished, batch, namespace, run.name)) is None:
            if time.monotonic() > deadline:
                raise TargetError(f"{run.what} job {run.name} did not finish within {run.timeout}s")
            await asyncio.sleep(POLL_SECONDS)
        lines, code = await asyncio.to_thread(_pod_log, core, namespace, run.name, run.what)
        for line in lines:
            await log(line)
        if not finished:
            raise TargetError(first_error_line(lines, run.command, code))
    except BaseException:
        await asyncio.to_thread(cluster.delete, namespace, "Job", run.name)
        raise
    finally:
        await asyncio.to_thread(cluster.delete, namespace, "Secret", secret["metadata"]["name"])


def _finished(batch: client.BatchV1Api, namespace: str, job: str) -> bool | None:
    """True once the Job completed, False once it failed, None while it runs."""
    try:
        status = batch.read_namespaced_job_status(job, namespace).status
    except (ApiException, HTTPError) as exc:
        raise wrap_api_error(exc, f"reading job {namespace}/{job}") from exc
    ended = {c.type for c in status.conditions or [] if c.status == "True"}
    if "Complete" in ended:
        return True
    return False if "Failed" in ended else None


def _pod_log(core: client.CoreV1Api, namespace: str, job: str, container: str) -> tuple[list[str], int]:
    """The last lines the Job's pod logged, and its exit status (-1 when unknown)."""
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=f"batch.kubernetes.io/job-name={job}")
        if not pods.items:
            return ["(the job's pod is gone; no log to show)"], -1
        pod = pods.items[0]
        code = next(
            (
                s.state.terminated.exit_code
                for s in pod.status.container_statuses or []
                if s.state and s.state.terminated
            ),
            -1,
        )
        # unpreloaded: this client version hands preloaded logs back as the repr of bytes
        response = core.read_namespaced_pod_log(
            pod.metadata.name,
            namespace,
            container=container,
            tail_lines=LOG_LINES,
            _preload_content=False,
        )
    except (ApiException, HTTPError) as exc:
        return [f"(its log could not be read: {getattr(exc, 'reason', exc)})"], -1
    return response.data.decode(errors="replace").splitlines(), code
