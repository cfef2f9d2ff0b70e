"""An environment's runtime log on the cluster: its pods' `app` container logs, read through the
API (tail, since, the previous container of a restarted pod) and followed line by line."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.runtime_logs import MAX_TAIL, RuntimeLine, RuntimeQuery
from deployer.targets.kubernetes.buildlog import split_stamp
from deployer.targets.kubernetes.errors import wrap_api_error

CONTAINER = "app"


def stamp_time(stamp: str) -> datetime:
    """The kubelet's RFC 3339 timestamp (nanoseconds) as a datetime; now when it has none (pure)."""
    if not stamp:
        return datetime.now(UTC)
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    return moment.replace(microsecond=int((fraction + "000000")[:6])) if fraction else moment


def log_arguments(query: RuntimeQuery, now: datetime) -> dict[str, Any]:
    """read_namespaced_pod_log's keyword arguments for `query` (pure)."""
    arguments: dict[str, Any] = {
        "container": CONTAINER,
        "timestamps": True,
        "follow": query.follow and not query.previous,
        "previous": query.previous,
        "tail_lines": max(0, min(query.tail, MAX_TAIL)),
        "_preload_content": False,
    }
    if query.since is not None:
        arguments["since_seconds"] = max(1, math.ceil((now - query.since).total_seconds()))
    return arguments


class PodLogs:
    """Reads the logs of the pods that serve one environment (label-selected)."""

    def __init__(self, core: client.CoreV1Api, namespace: str, selector: dict[str, str]) -> None:
        self.core, self.namespace = core, namespace
        self.selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        self._open_responses: list[Any] = []
        self._lock = threading.Lock()

    def pods(self) -> list[str]:
        """The environment's pods that have been scheduled, oldest first."""
        try:
            found = self.core.list_namespaced_pod(self.namespace, label_selector=self.selector)
        except (ApiException, HTTPError) as exc:
            raise wrap_api_error(exc, f"listing the pods of {self.selector}") from exc
        bound = [pod for pod in found.items if pod.spec.node_name]
        bound.sort(key=lambda pod: pod.metadata.creation_timestamp or datetime.min.replace(tzinfo=UTC))
        return [pod.metadata.name for pod in bound]

    async def read(self, query: RuntimeQuery) -> AsyncIterator[RuntimeLine]:
        """Each pod's lines, merged by time; with `follow`, each new line as a pod prints it."""
        pods = await asyncio.to_thread(self.pods)
        arguments = log_arguments(query, datetime.now(UTC))
        if not arguments["follow"]:
            lines = await asyncio.to_thread(self._tails, pods, arguments)
            for line in sorted(lines, key=lambda line: line.at)[-arguments["tail_lines"] or len(lines) :]:
                yield line
            return
        queue: asyncio.Queue[RuntimeLine | None] = asyncio.Queue()
        stop = threading.Event()
        loop = asyncio.get_running_loop()
        readers = [
            asyncio.create_task(asyncio.to_thread(self._follow, pod, arguments, queue, loop, stop))
            for pod in pods
        ]
        try:
            done = 0
            while done < len(readers):
                item = await queue.get()
                if item is None:
                    done += 1
                else:
                    yield item
        finally:
            stop.set()
            with self._lock:  # unblock the readers' threads (closing from here would not)
                for response in self._open_responses:
                    with contextlib.suppress(OSError, RuntimeError, ValueError):
                        response.shutdown()
            for reader in readers:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    def _tails(self, pods: list[str], arguments: dict[str, Any]) -> list[RuntimeLine]:
        lines: list[RuntimeLine] = []
        for pod in pods:
            response = self._open(pod, arguments)
            if response is not None:
                lines += list(_lines(response.data.decode(errors="replace").splitlines()))
        return lines

    def _open(self, pod: str, arguments: dict[str, Any]) -> Any:
        try:
            return self.core.read_namespaced_pod_log(pod, self.namespace, **arguments)
        except ApiException as exc:
            if exc.status == 400:  # no previous container, or one still waiting to start
                return None
            raise wrap_api_error(exc, f"reading the log of pod {pod}") from exc
        except HTTPError as exc:
            raise wrap_api_error(exc, f"reading the log of pod {pod}") from exc

    def _follow(
        self,
        pod: str,
        arguments: dict[str, Any],
        queue: asyncio.Queue[RuntimeLine | None],
        loop: asyncio.AbstractEventLoop,
        stop: threading.Event,
    ) -> None:
        try:
            response = self._open(pod, arguments)
            if response is None:
                return
            with self._lock:
                self._open_responses.append(response)
            if stop.is_set():
                return
            with contextlib.closing(response):
                for line in _lines(raw.decode(errors="replace") for raw in response):
                    if stop.is_set():
                        return
                    loop.call_soon_threadsafe(queue.put_nowait, line)
        except (HTTPError, OSError, ValueError):
            return  # the stream was dropped (the pod went away): its lines so far were sent
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)


def _lines(raws: Iterator[str] | list[str]) -> Iterator[RuntimeLine]:
    for raw in raws:
        stamp, text = split_stamp(raw.rstrip("\r\n"))
        yield RuntimeLine(0, stamp_time(stamp), text)
