"""A supervised app process on a free port: restarted with backoff when it crashes.

Its output is masked here, before it reaches the environment's runtime log, the deployment
log, the tail kept for error messages or, once the deployment is over, AutoStack's own log.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from deployer.masking import LineMasker, Masker
from deployer.targets.local.commands import kill_group
from deployer.targets.local.pids import PidRecords

log = logging.getLogger(__name__)
LineFn = Callable[[str], Awaitable[None]]
ExitFn = Callable[[int | None], Awaitable[None]]
# (text, source) into the environment's runtime log: `app` for its output, `autostack` for notes
RecordFn = Callable[[str, str], None]
# A line that might hold the first half of a split secret waits this long for the next one.
HOLD_SECONDS = 0.2


def free_port() -> int:
    """A TCP port nobody listens on right now (the app binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Supervisor:
    """Keeps one app command running; `stop()` ends it for good."""

    def __init__(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        port: int,
        name: str,
        on_line: LineFn | None = None,
        max_backoff: float = 30.0,
        secrets: Iterable[str] = (),
        pids: PidRecords | None = None,
        record: RecordFn | None = None,
    ) -> None:
        self.pids = pids
        self.record = record
        # told of each exit once the app is live (deployer.targets.local.app_watch)
        self.on_exit: ExitFn | None = None
        self.command, self.cwd, self.env, self.port, self.name = command, cwd, env, port, name
        self.on_line = on_line
        self.max_backoff = max_backoff
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self._masker = Masker(secrets)
        self._lines = LineMasker(self._masker)
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def address(self) -> str:
        """The URL the process listens on."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the current process has not exited."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Spawn the process and keep it alive in the background."""
        self._note(f"{self.name}: starting `{self.command}` on port {self.port}")
        await self._spawn()
        self._task = asyncio.create_task(self._watch(), name=f"supervise {self.name}")

    async def _spawn(self) -> None:
        self.process = await asyncio.create_subprocess_shell(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        if self.pids is not None:
            self.pids.add(self.process.pid, f"app {self.name}")

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        """Forward the output line by line, masked; a held line goes out after a pause."""
        while True:
            try:
                async with asyncio.timeout(HOLD_SECONDS if self._lines.holding else None):
                    raw = await stream.readline()
            except TimeoutError:
                await self._line(self._lines.flush())
                continue
            if not raw:
                break
            await self._line(self._lines.feed(raw.decode(errors="replace").rstrip("\r\n")))
        await self._line(self._lines.flush())

    async def _line(self, text: str | None) -> None:
        if text is None:
            return
        self.tail.append(text)
        if self.record is not None:
            self.record(text, "app")
        if self.on_line is not None:
            await self.on_line(text)
        else:
            log.info("%s: %s", self.name, text, extra={"app": self.name})

    async def _watch(self) -> None:
        backoff = 0.5
        while not self._stopping:
            process = self.process
            assert process is not None and process.stdout is not None
            await self._pump(process.stdout)
            code = await process.wait()
            self._forget(process)
            if self._stopping:
                return
            self.restarts += 1
            self._note(f"the app exited with code {code}; restarting it in {backoff:.1f} s")
            if self.on_exit is not None:
                await self.on_exit(code)
            log.warning(
                "%s exited %s; restarting in %.1f s",
                self.name,
                code,
                backoff,
                extra={"app": self.name, "exit_code": code},
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
            if not self._stopping:
                await self._spawn()
                self._note(f"restarted `{self.command}` (restart {self.restarts})")

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL after `grace` seconds."""
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            kill_group(process, signal.SIGTERM)
            try:
                async with asyncio.timeout(grace):
                    await process.wait()
            except TimeoutError:
                kill_group(process)
                await process.wait()
            self._forget(process)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _note(self, text: str) -> None:
        if self.record is not None:
            self.record(self._masker.mask(text), "autostack")

    def _forget(self, process: asyncio.subprocess.Process) -> None:
        if self.pids is not None:
            self.pids.remove(process.pid)

    def detach_output(self) -> None:
        """After the deployment ends, app output goes to AutoStack's log, not the deployment's."""
        self.on_line = None
