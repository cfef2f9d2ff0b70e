"""Watches the app pods of every live environment on the cluster (one watch across namespaces,
resumed from its resourceVersion; a list every few seconds when watching fails) and hands each
change of an environment's app state (deployer.targets.kubernetes.pod_state) to `on_change`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.app_state import LAST_LINES, LIVE, AppHealth, went_live
from deployer.events import AppStateChanged
from deployer.masking import Masker
from deployer.targets.kubernetes.errors import ClusterTemporaryError, wrap_api_error
from deployer.targets.kubernetes.pod_state import PodVerdict, classify, fold, judge, worst
from deployer.targets.kubernetes.podlogs import CONTAINER
from deployer.targets.kubernetes.render import DEPLOYMENT, ENVIRONMENT, MANAGED_BY, PROJECT
from deployer.targets.kubernetes.target import KubernetesTarget
from store.live_apps import LiveApp, Sessions, live_apps

log = logging.getLogger("autostack.kubernetes.pods")
ChangeFn = Callable[[AppStateChanged], Awaitable[None]]
SecretsFn = Callable[[int], Awaitable[Sequence[str]]]
# the environments' app pods: build and one-off Job pods carry autostack.dev/component
SELECTOR = ",".join([*(f"{k}={v}" for k, v in MANAGED_BY.items()), "!autostack.dev/component"])
WATCH_SECONDS = 240  # the API server ends each watch after this; the next resumes where it ended
RESYNC_SECONDS = 10.0  # live builds read again and every environment judged (readiness is timed)
POLL_SECONDS = 15.0  # the wait before listing again when watching failed
Key = tuple[str, str]


class Gone(Exception):
    """The watch's resourceVersion is too old (410): list again."""


async def no_secrets(_project_id: int) -> Sequence[str]:
    """The `secrets_for` when nothing is to be masked (tests, tools)."""
    return ()


@dataclass(slots=True)
class _Known:
    deployment_id: int
    health: AppHealth
    told: tuple[str, str]  # (state, reason) last handed on, so repeats are not


class PodStates:
    """The watcher the deploy worker runs on a cluster, from its start until it stops."""

    def __init__(
        self,
        core: client.CoreV1Api,
        sessions: Sessions,
        on_change: ChangeFn,
        secrets_for: SecretsFn = no_secrets,
        *,
        resync: float = RESYNC_SECONDS,
        poll: float = POLL_SECONDS,
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self.core, self.sessions, self.on_change, self.secrets_for = core, sessions, on_change, secrets_for
        self.resync, self.poll, self.watch_seconds = resync, poll, watch_seconds
        self.pods: dict[str, dict[str, Any]] = {}  # by namespace/name
        self.live: dict[Key, LiveApp] = {}
        self.known: dict[Key, _Known] = {}

    async def run(self) -> None:
        """List the pods, then watch from the list's resourceVersion, forever."""
        version: str | None = None
        while True:
            try:
                if version is None:
                    version = await self._list()
                    await self.judge_all()
                version = await self._watch(version)
            except Gone:
                version = None
            except Exception as exc:  # the cluster, the database: the watch outlives every failure
                log.warning("watching app pods failed (%s); listing again in %.0f s", exc, self.poll)
                version = None
                await asyncio.sleep(self.poll)

    async def judge_all(self) -> None:
        """Read which builds are live and judge every live environment's pods again."""
        self.live = await live_apps(self.sessions)
        for key in [key for key in self.known if key not in self.live]:
            del self.known[key]
        for key in self.live:
            await self._judge(key)

    async def _list(self) -> str:
        def listed() -> dict[str, Any]:
            try:
                response = self.core.list_pod_for_all_namespaces(
                    label_selector=SELECTOR, _preload_content=False
                )
            except (ApiException, HTTPError) as exc:
                raise wrap_api_error(exc, "listing the environments' app pods") from exc
            listing: dict[str, Any] = json.loads(response.data)
            return listing

        found = await asyncio.to_thread(listed)
        self.pods = {_name(pod): pod for pod in found.get("items") or []}
        return str((found.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(self, version: str) -> str:
        """Follow the pods' changes from `version` until the API server ends the watch."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        opened: list[Any] = []
        reader = asyncio.create_task(asyncio.to_thread(self._stream, version, queue, loop, opened))
        tick = loop.time() + self.resync
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), max(0.0, tick - loop.time()))
                except TimeoutError:
                    await self.judge_all()
                    tick = loop.time() + self.resync
                    continue
                if event is None:
                    await reader  # raises what ended the stream, if anything did
                    return version
                version, key = self._take(event, version)
                if key is not None:
                    await self._judge(key)  # in order: two judgements never race to tell the same news
        finally:
            for response in opened:  # unblocks the reading thread
                with contextlib.suppress(OSError, RuntimeError, ValueError, AttributeError):
                    response.shutdown()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    def _take(self, event: dict[str, Any], version: str) -> tuple[str, Key | None]:
        """Apply one watch event to the known pods: the version to resume from, and the
        environment to judge again (None when it is not live)."""
        kind, pod = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if pod.get("code") == 410:
                raise Gone(pod.get("message", ""))
            raise ClusterTemporaryError(f"watching the app pods: {pod.get('message', pod)}")
        version = (pod.get("metadata") or {}).get("resourceVersion") or version
        if kind in ("ADDED", "MODIFIED"):
            self.pods[_name(pod)] = pod
        elif kind == "DELETED":
            self.pods.pop(_name(pod), None)
        project, environment, _ = _labels(pod)
        key = (project, environment)
        return version, key if kind != "BOOKMARK" and key in self.live else None

    def _stream(
        self,
        version: str,
        queue: asyncio.Queue[dict[str, Any] | None],
        loop: asyncio.AbstractEventLoop,
        opened: list[Any],
    ) -> None:
        try:
            response = self.core.list_pod_for_all_namespaces(
                label_selector=SELECTOR,
                watch=True,
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=self.watch_seconds,
                _request_timeout=(10, self.watch_seconds + 30),
                _preload_content=False,
            )
            opened.append(response)
            with contextlib.closing(response):
                for raw in response:
                    line = raw.strip() if isinstance(raw, bytes) else raw.encode().strip()
                    if line:
                        loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
        except ApiException as exc:
            if exc.status == 410:
                raise Gone(str(exc.reason)) from exc
            raise wrap_api_error(exc, "watching the environments' app pods") from exc
        except (HTTPError, OSError, ValueError) as exc:
            raise wrap_api_error(exc, "watching the environments' app pods") from exc
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def _judge(self, key: Key) -> None:
        app = self.live.get(key)
        if app is None:
            return
        now = datetime.now(UTC)
        verdicts = [
            verdict
            for pod in self.pods.values()
            if _labels(pod) == (app.project, app.environment, str(app.deployment_id))
            and (verdict := classify(pod, now)) is not None
        ]
        known = self.known.get(key)
        if known is None or known.deployment_id != app.deployment_id:
            known = self.known[key] = _baseline(app, now)
        health = fold(known.health, judge(verdicts, now))
        known.health = health
        if (health.state, health.reason) == known.told:
            return
        told = (health.state, health.reason)
        chosen, _, _ = worst(verdicts) if health.state != LIVE else (None, 0, 0)
        masker = Masker(await self.secrets_for(app.project_id))
        lines = await asyncio.to_thread(self._last_lines, chosen)
        event = AppStateChanged(
            app.project,
            app.environment,
            app.deployment_id,
            health.state,
            health.since,
            masker.mask(health.reason),
            tuple(masker.mask(line) for line in lines),
        )
        try:
            await self.on_change(event)
        except Exception:
            log.exception("recording %s/%s as %s failed", app.project, app.environment, health.state)
            return  # told again on the next judgement
        known.told = told

    def _last_lines(self, pod: PodVerdict | None) -> list[str]:
        """The crashed (`previous`) or running container's last lines; none when unreadable."""
        if pod is None:
            return []
        namespace = pod.namespace
        for previous in (True, False) if pod.previous else (False,):
            try:
                response = self.core.read_namespaced_pod_log(
                    pod.pod,
                    namespace,
                    container=CONTAINER,
                    previous=previous,
                    tail_lines=LAST_LINES,
                    _preload_content=False,
                )
            except (ApiException, HTTPError) as exc:
                log.info("no log lines of pod %s/%s (%s)", namespace, pod.pod, getattr(exc, "reason", exc))
                continue
            text = response.data.decode(errors="replace").rstrip("\n")
            return text.splitlines()[-LAST_LINES:] if text else []
        return []


def _baseline(app: LiveApp, now: datetime) -> _Known:
    """What is known of a live build before its pods are judged: the stored state (another
    worker's, or this one's before it restarted), else live as its pipeline reported it."""
    if app.known is not None:
        health = AppHealth(app.known.state, app.known.since, app.known.reason)
        return _Known(app.deployment_id, health, (app.known.state, app.known.reason))
    return _Known(app.deployment_id, went_live(now), (LIVE, ""))


def _name(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _labels(pod: dict[str, Any]) -> tuple[str, str, str]:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get(PROJECT, ""), labels.get(ENVIRONMENT, ""), labels.get(DEPLOYMENT, "")


def watch_target(
    target: KubernetesTarget, sessions: Sessions, on_change: ChangeFn, secrets_for: SecretsFn = no_secrets
) -> PodStates:
    """The watcher of the live environments' pods on `target`'s cluster."""
    return PodStates(client.CoreV1Api(target.cluster.api), sessions, on_change, secrets_for)
