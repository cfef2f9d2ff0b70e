"""A deployment's log: each line masked, numbered, emitted and stored in batches.

Lines pass through a `LineMasker`, so a line waits for the next one (at most `HOLD_SECONDS`)
in case it ends with the first half of a secret the next line finishes. Stored lines are
written at most every `STORE_SECONDS` while any are pending: one insert per batch keeps the
database load bounded, and the short wait keeps readers of the log (CLI, page) live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime

from deployer.events import EventSink, LogLine
from deployer.masking import LineMasker, Masker
from store import deploy_logs
from store.db import Sessions

log = logging.getLogger("autostack.deployer")
_MAX_LINE = 4000
HOLD_SECONDS = 0.2
STORE_SECONDS = 0.1


# Readers in the same process (the API stream of an embedded server) wake when a batch is
# stored instead of waiting out their poll; readers elsewhere keep polling the database.
_stored: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Event]] = (
    weakref.WeakKeyDictionary()
)


def _events() -> dict[int, asyncio.Event]:
    return _stored.setdefault(asyncio.get_running_loop(), {})


async def wait_for_lines(deployment_id: int, seconds: float) -> None:
    """Return when this process stores lines of the deployment, or after `seconds`."""
    event = _events().setdefault(deployment_id, asyncio.Event())
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


class DeploymentLogWriter:
    """Collects one deployment's log lines; `flush()` writes the pending ones to the database."""

    def __init__(
        self,
        sessions: Sessions,
        deployment_id: int,
        sink: EventSink,
        secrets: Iterable[str] = (),
        start_seq: int = 0,
    ) -> None:
        self.sessions = sessions
        self.deployment_id = deployment_id
        self.sink = sink
        self._secrets = list(secrets)
        self.masker = Masker(self._secrets)
        self._stream = LineMasker(self.masker)
        self._held_stream = "build"
        self._release: asyncio.TimerHandle | None = None
        self._emitting: set[asyncio.Task[None]] = set()
        self.seq = self.start_seq = start_seq
        self.lines: list[str] = []
        self._pending: list[deploy_logs.NewLine] = []
        self._store_lock = asyncio.Lock()
        self._store_timer: asyncio.Task[None] | None = None

    @classmethod
    async def resume(
        cls,
        sessions: Sessions,
        deployment_id: int,
        sink: EventSink,
        secrets: Iterable[str] = (),
    ) -> DeploymentLogWriter:
        """A writer continuing after the lines already stored for the deployment."""
        last = await deploy_logs.last_seq(sessions, deployment_id)
        return cls(sessions, deployment_id, sink, secrets, start_seq=last)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Mask these values too from now on (the app's env vars, once known)."""
        self._secrets.extend(secrets)
        self.masker = Masker(self._secrets)
        self._stream.use(self.masker)

    async def __call__(self, text: str, stream: str = "build") -> None:
        """Take one line: mask, number, emit, queue for storage (the previous line, if held)."""
        self._cancel_release()
        ready, ready_stream = self._stream.feed(text), self._held_stream
        self._held_stream = stream
        if ready is not None:
            await self.sink.emit(self._add(ready, ready_stream))
        if self._stream.holding:
            self._release = asyncio.get_running_loop().call_later(HOLD_SECONDS, self._release_held)
        if len(self._pending) >= 200:
            await self._store()

    async def flush(self) -> None:
        """Release a held line, then store the lines not yet written (all of them, on return)."""
        self._cancel_release()
        if (held := self._stream.flush()) is not None:
            await self.sink.emit(self._add(held, self._held_stream))
        if self._emitting:
            await asyncio.gather(*self._emitting)
        if self._store_timer is not None:
            self._store_timer.cancel()
            self._store_timer = None
        await self._store()

    async def _store(self) -> None:
        # one writer at a time, so a flush returns only once every earlier batch is committed
        async with self._store_lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, []
            try:
                await deploy_logs.append(self.sessions, self.deployment_id, pending)
                if (stored := _events().pop(self.deployment_id, None)) is not None:
                    stored.set()
            except BaseException:
                self._pending[:0] = pending  # the next store tries them again
                raise

    def _schedule_store(self) -> None:
        if self._store_timer is None or self._store_timer.done():
            self._store_timer = asyncio.get_running_loop().create_task(self._store_soon())

    async def _store_soon(self) -> None:
        await asyncio.sleep(STORE_SECONDS)
        try:
            # shielded: a flush cancelling this timer must not cut a batch's transaction short
            await asyncio.shield(self._store())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning(
                "storing log lines of deployment %s failed; retrying with the next batch",
                self.deployment_id,
                exc_info=True,
                extra={"deployment_id": self.deployment_id},
            )

    def _add(self, masked: str, stream: str) -> LogLine:
        """Number a masked line and queue it for storage; the event to emit for it."""
        masked = masked[:_MAX_LINE]
        self.seq += 1
        now = datetime.now(UTC)
        self.lines.append(masked)
        self._pending.append(deploy_logs.NewLine(self.seq, now, stream, masked))
        self._schedule_store()
        return LogLine(self.deployment_id, self.seq, now, masked, stream)

    def _release_held(self) -> None:
        """No next line came in time: the held one goes out as it is."""
        self._release = None
        if (held := self._stream.flush()) is None:
            return
        task = asyncio.create_task(self.sink.emit(self._add(held, self._held_stream)))
        self._emitting.add(task)
        task.add_done_callback(self._emitting.discard)

    def _cancel_release(self) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None
