"""A live environment's app state from its pods' statuses (plain API dicts; pure): restarts,
CrashLoopBackOff, OOMKilled and failing readiness become the states of deployer.app_state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deployer.app_state import CRASHED, LIVE, RESTARTING, TROUBLED, UNHEALTHY, AppHealth, went_live
from deployer.targets.kubernetes.podlogs import CONTAINER, stamp_time

# a pod's own phase before it counts: a fresh pod is not ready until its probes pass
STARTING = "starting"
# readiness is probed every 5 s once the startup probe passed: a started container not ready
# this long after it started fails its readiness check (kubelet already waited 2 failures)
READY_GRACE = timedelta(seconds=15)
# waiting reasons that mean the container cannot be (re)started at all
CANNOT_START = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
_RANK = {RESTARTING: 1, UNHEALTHY: 2, CRASHED: 3}


@dataclass(frozen=True, slots=True)
class PodVerdict:
    """One pod's app container: its state (an app state, or STARTING), since when and why;
    `previous` says its crash's output is in the previous container's log."""

    pod: str
    state: str
    since: datetime
    reason: str = ""
    previous: bool = False
    namespace: str = ""


def _time(value: Any, default: datetime) -> datetime:
    return stamp_time(value) if isinstance(value, str) and value else default


def _ended(terminated: dict[str, Any], memory: str | None) -> str:
    """How a container ended, in the words of the local target's notes."""
    reason, code = terminated.get("reason") or "", terminated.get("exitCode")
    if reason == "OOMKilled":
        limit = f", limit {memory}" if memory else ""
        return f"the app ran out of memory and was killed (OOMKilled{limit})"
    if isinstance(code, int) and code > 128:
        return f"the app was killed by signal {code - 128} (exit code {code})"
    message = (terminated.get("message") or "").strip().splitlines()
    detail = f": {message[-1]}" if message and reason not in ("Error", "Completed") else ""
    return f"the app exited with code {code}{detail}"


def _spec(pod: dict[str, Any]) -> dict[str, Any]:
    containers = (pod.get("spec") or {}).get("containers") or []
    return next((c for c in containers if c.get("name") == CONTAINER), {})


def _memory_limit(pod: dict[str, Any]) -> str | None:
    return ((_spec(pod).get("resources") or {}).get("limits") or {}).get("memory")


def _readiness(pod: dict[str, Any]) -> str:
    path = ((_spec(pod).get("readinessProbe") or {}).get("httpGet") or {}).get("path")
    return f"its readiness check (GET {path})" if path else "its readiness check"


def classify(pod: dict[str, Any], now: datetime) -> PodVerdict | None:
    """The pod's app container's state; None for a pod that says nothing of the app (being
    deleted, evicted or finished)."""
    verdict = _verdict(pod, now)
    if verdict is None:
        return None
    return dataclasses.replace(verdict, namespace=(pod.get("metadata") or {}).get("namespace", ""))


def _verdict(pod: dict[str, Any], now: datetime) -> PodVerdict | None:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    name = meta.get("name", "?")
    if meta.get("deletionTimestamp") or status.get("phase") in ("Succeeded", "Failed"):
        return None  # replaced, scaled down or evicted: the ReplicaSet brings up another
    container = next((c for c in status.get("containerStatuses") or [] if c.get("name") == CONTAINER), None)
    if container is None:
        return None if status.get("phase") != "Pending" else PodVerdict(name, STARTING, now)
    state, restarts = container.get("state") or {}, int(container.get("restartCount") or 0)
    last = (container.get("lastState") or {}).get("terminated") or {}
    memory = _memory_limit(pod)
    if "terminated" in state:
        ended = state["terminated"] or {}
        since = _time(ended.get("finishedAt"), now)
        return PodVerdict(name, RESTARTING, since, f"{_ended(ended, memory)}; Kubernetes restarts it")
    waiting = state.get("waiting")
    if waiting is not None:
        reason = (waiting or {}).get("reason") or ""
        if reason == "CrashLoopBackOff":
            since = _time(last.get("finishedAt"), now)
            why = f"{_ended(last, memory)} and keeps crashing (CrashLoopBackOff, {restarts} restarts)"
            return PodVerdict(name, CRASHED, since, why, previous=bool(last))
        if reason in CANNOT_START:
            message = ((waiting or {}).get("message") or "").strip()
            why = f"the app cannot be started: {reason}" + (f": {message}" if message else "")
            return PodVerdict(name, CRASHED, now, why)
        if restarts and last:  # ContainerCreating after a crash
            since = _time(last.get("finishedAt"), now)
            return PodVerdict(
                name, RESTARTING, since, f"{_ended(last, memory)}; Kubernetes restarts it", True
            )
        return PodVerdict(name, STARTING, now)
    running = state.get("running") or {}
    if container.get("ready"):
        return PodVerdict(name, LIVE, _time(running.get("startedAt"), now))
    started_at = _time(running.get("startedAt"), now)
    if container.get("started") and now - started_at >= READY_GRACE:
        since = _not_ready_since(status, started_at)
        return PodVerdict(name, UNHEALTHY, since, f"the app runs but fails {_readiness(pod)}")
    if restarts and last:  # up again after a crash; its startup probe has not passed yet
        since = _time(last.get("finishedAt"), now)
        return PodVerdict(name, RESTARTING, since, f"{_ended(last, memory)}; Kubernetes restarts it", True)
    return PodVerdict(name, STARTING, now)


def _not_ready_since(status: dict[str, Any], started_at: datetime) -> datetime:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "False":
            return max(_time(condition.get("lastTransitionTime"), started_at), started_at)
    return started_at


def worst(verdicts: Iterable[PodVerdict]) -> tuple[PodVerdict | None, int, int]:
    """The pod whose trouble counts (the worst state, the earliest), how many pods share that
    state and how many there are; pods still starting count only while no pod is ready."""
    pods = list(verdicts)
    troubled = [v for v in pods if v.state in TROUBLED]
    if not troubled and not any(v.state == LIVE for v in pods):
        troubled = [dataclasses.replace(v, state=RESTARTING, reason="the app is starting") for v in pods]
    if not troubled:
        return None, 0, len(pods)
    rank = max(_RANK[v.state] for v in troubled)
    chosen = sorted((v for v in troubled if _RANK[v.state] == rank), key=lambda v: (v.since, v.pod))
    return chosen[0], len(chosen), len(pods)


def judge(verdicts: Iterable[PodVerdict], now: datetime) -> AppHealth | None:
    """The environment's app from its pods' verdicts: the worst pod's trouble, naming the pod
    and how many share it; live when none is in trouble; None when no pod says anything."""
    pods = list(verdicts)
    if not pods:
        return None
    first, sharing, total = worst(pods)
    if first is None:
        return went_live(now)
    share = f" ({sharing} of {total} pods)" if total > 1 else ""
    return AppHealth(first.state, first.since, f"pod {first.pod}: {first.reason}{share}")


def fold(before: AppHealth, now_judged: AppHealth | None) -> AppHealth:
    """The state to record after `before` when the pods say `now_judged`: trouble keeps the
    moment it started, and a restart loop stays crashed until the app is ready again (its
    pods' restarting between crashes is the loop going on, not news)."""
    if now_judged is None:
        return before
    if now_judged.state == LIVE:
        return before if before.state == LIVE else now_judged
    if before.state == LIVE:
        return now_judged
    if before.state == CRASHED and now_judged.state == RESTARTING:
        return before
    return dataclasses.replace(now_judged, since=before.since)
