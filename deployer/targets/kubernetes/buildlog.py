"""Streaming the build pod's log into the deployment log while the build Job runs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.targets.base import LogFn

CONTAINER = "buildkit"
RETRY_SECONDS = 1.0
# A kubelet ends a followed log when the container exits; give it this long to deliver the last
# lines by itself before the stream is cut (kwok, and a kubelet that lost the container, never end it).
EOF_GRACE_SECONDS = 2.0
CATCH_UP_LINES = 500

Line = tuple[str, str]  # (the kubelet's timestamp, the text)


def split_stamp(raw: str) -> Line:
    """A `timestamps=true` log line as (timestamp, text) (pure); ("", raw) if it carries none."""
    stamp, sep, text = raw.partition(" ")
    if not sep or not stamp[:4].isdigit() or "T" not in stamp:
        return "", raw
    return stamp, text


def unseen(catch_up: list[Line], last: Line | None) -> list[Line]:
    """The lines of a final tail read that follow the last line already forwarded (pure).

    Timestamps have nanoseconds, so (timestamp, text) pins a line; when it is not in the tail
    (nothing was followed, or more lines than the tail holds came since) every line is new.
    """
    if last is not None:
        for index in range(len(catch_up) - 1, -1, -1):
            if catch_up[index] == last:
                return catch_up[index + 1 :]
    return catch_up


class BuildLogStream:
    """Follows one Job's build container log in a thread; forwards each line as it arrives."""

    def __init__(self, core: client.CoreV1Api, namespace: str, job: str, log: LogFn) -> None:
        self.core, self.namespace, self.job, self.log = core, namespace, job, log
        self.last: Line | None = None
        self._lines: asyncio.Queue[Line | None] = asyncio.Queue()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._response: Any = None  # the open follow response, shut down to unblock its reader
        self._pod: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin following in the background (the client blocks, so reading runs in a thread)."""
        self._reader = asyncio.create_task(self._read())
        self._pump = asyncio.create_task(self._forward())

    async def finish(self, pod: str | None) -> None:
        """The Job ended: let the follow reach its end, stop it, then forward any tail it missed."""
        assert self._reader is not None and self._pump is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), EOF_GRACE_SECONDS)
        self._stop()
        await self._reader
        self._lines.put_nowait(None)
        await self._pump
        pod = pod or self._pod
        if pod is None:
            return
        for _, text in unseen(await asyncio.to_thread(self._tail, pod), self.last):
            await self.log(text)

    async def cancel(self) -> None:
        """The build was superseded: stop following without waiting for the rest."""
        self._stop()
        for task in (self._reader, self._pump):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._response is not None:
                _shutdown(self._response)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopped.is_set():
            pod = await asyncio.to_thread(self._scheduled_pod)
            # the kubelet refuses a container still waiting to start: retry until it runs or ends
            if pod is not None and await asyncio.to_thread(self._follow, pod, loop):
                return
            if not self._stopped.is_set():
                await asyncio.sleep(RETRY_SECONDS)

    def _scheduled_pod(self) -> str | None:
        try:
            pods = self.core.list_namespaced_pod(
                self.namespace, label_selector=f"batch.kubernetes.io/job-name={self.job}"
            )
        except (ApiException, HTTPError):
            return None
        bound = [p.metadata.name for p in pods.items if p.spec.node_name]
        self._pod = bound[0] if bound else None
        return self._pod

    def _follow(self, pod: str, loop: asyncio.AbstractEventLoop) -> bool:
        """Read the followed log to its end; False when it could not be opened (retry later)."""
        try:
            response = self.core.read_namespaced_pod_log(
                pod,
                self.namespace,
                container=CONTAINER,
                follow=True,
                timestamps=True,
                _preload_content=False,
            )
        except (ApiException, HTTPError):
            return False
        with self._lock:
            self._response = response
        if self._stopped.is_set():  # stopped while the request was being opened
            _shutdown(response)
        try:
            for raw in response:
                line = split_stamp(raw.decode(errors="replace").rstrip("\r\n"))
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except (HTTPError, OSError, ValueError):
            # A shutdown mid-read surfaces as a protocol or socket error. A dropped stream is not
            # followed again (that would repeat the log from its start): the tail read covers it.
            pass
        finally:
            with self._lock:
                self._response = None
            response.close()
        return True

    async def _forward(self) -> None:
        while (line := await self._lines.get()) is not None:
            self.last = line
            await self.log(line[1])

    def _tail(self, pod: str) -> list[Line]:
        try:
            # unpreloaded: this client version hands preloaded logs back as the repr of bytes
            response = self.core.read_namespaced_pod_log(
                pod,
                self.namespace,
                container=CONTAINER,
                tail_lines=CATCH_UP_LINES,
                timestamps=True,
                _preload_content=False,
            )
        except (ApiException, HTTPError) as exc:
            return [("", f"(the end of the build log could not be read: {getattr(exc, 'reason', exc)})")]
        return [split_stamp(raw) for raw in response.data.decode(errors="replace").splitlines()]


def _shutdown(response: Any) -> None:
    """Unblock a thread reading `response` (closing it from another thread would not)."""
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        response.shutdown()
