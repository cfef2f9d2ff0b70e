"""Watching a Deployment's rollout until it is available or fails with the cluster's reason."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.targets.base import LogFn, TargetError
from deployer.targets.kubernetes.errors import wrap_api_error

PULL_FAILURES = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
LOG_LINES = 20
POLL_SECONDS = 1.0


class RolloutFailed(TargetError):
    """The new pods did not become available; the previous ReplicaSet keeps serving."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where a rollout stands: done, still progressing, or failed (with why, and which pod)."""

    state: str  # done | progressing | failed
    reason: str = ""
    crashed_pod: str | None = None


def judge(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> Verdict:
    """The rollout's state from the Deployment and its new pods (plain API dicts; pure)."""
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    for pod in pods:
        verdict = _pod_failure(pod)
        if verdict is not None:
            return verdict
    for condition in status.get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            return Verdict("failed", f"rollout timed out: {condition.get('message', '')}".strip())
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return Verdict("progressing", "the controller has not seen the new spec yet")
    desired = spec.get("replicas", 1)
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if updated < desired or status.get("replicas", 0) > updated or available < desired:
        return Verdict("progressing", f"{updated}/{desired} updated, {available} available")
    return Verdict("done")


def _pod_failure(pod: dict[str, Any]) -> Verdict | None:
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "Unschedulable":
            return Verdict("failed", f"pod {name} is unschedulable: {condition.get('message', '')}")
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason", "")
        if reason in PULL_FAILURES:
            return Verdict("failed", f"{reason}: pod {name} cannot pull {container.get('image')}")
        if reason == "CrashLoopBackOff":
            last = ((container.get("lastState") or {}).get("terminated")) or {}
            code = last.get("exitCode", "?")
            restarts = container.get("restartCount", 0)
            return Verdict(
                "failed",
                f"CrashLoopBackOff: container {container['name']} of pod {name} exited {code} "
                f"and restarted {restarts} times",
                crashed_pod=name,
            )
    return None


async def watch_rollout(
    api: client.ApiClient, namespace: str, name: str, deployment_id: int, limit: float, log: LogFn
) -> None:
    """Wait for the Deployment to be available; raise RolloutFailed with the cluster's reason."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deadline, said = time.monotonic() + limit, ""
    while True:
        verdict = await asyncio.to_thread(_look, api, apps, core, namespace, name, deployment_id)
        if verdict.state == "done":
            return
        if verdict.state == "failed":
            reason = verdict.reason
            if verdict.crashed_pod:
                reason += "\n" + await asyncio.to_thread(_last_lines, core, namespace, verdict.crashed_pod)
            raise RolloutFailed(reason)
        if verdict.reason != said:
            said = verdict.reason
            await log(f"rollout of {namespace}/{name}: {said}")
        if time.monotonic() > deadline:
            raise RolloutFailed(f"rollout timed out after {limit:.0f}s: {verdict.reason}")
        await asyncio.sleep(POLL_SECONDS)


def _look(
    api: client.ApiClient,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
    name: str,
    deployment_id: int,
) -> Verdict:
    try:
        deployment = apps.read_namespaced_deployment(name, namespace)
        pods = core.list_namespaced_pod(
            namespace,
            label_selector=f"autostack.dev/environment={name},autostack.dev/deployment={deployment_id}",
        )
    except (ApiException, HTTPError) as exc:
        raise wrap_api_error(exc, f"reading the rollout of {namespace}/{name}") from exc
    return judge(api.sanitize_for_serialization(deployment), api.sanitize_for_serialization(pods.items))


def _last_lines(core: client.CoreV1Api, namespace: str, pod: str) -> str:
    try:
        # unpreloaded: this client version hands preloaded logs back as the repr of bytes
        response = core.read_namespaced_pod_log(
            pod, namespace, previous=True, tail_lines=LOG_LINES, _preload_content=False
        )
        text = response.data.decode(errors="replace").rstrip()
    except (ApiException, HTTPError) as exc:
        return f"(its last log lines could not be read: {getattr(exc, 'reason', exc)})"
    return f"last {LOG_LINES} log lines:\n{text}" if text else "(it logged nothing)"
