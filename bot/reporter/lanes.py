"""Deployer events queued in the process and reported by tasks of their own, so a build never
waits for GitHub (whose rate-limit waits last up to two minutes).

Each deployment's events keep their order in a lane of their own; lanes run side by side, so
one deployment whose GitHub answers slowly holds back no other. Log lines waiting in a lane go
out as one event: the reporter only keeps their text, and a build that logs faster than GitHub
answers would otherwise pile up one event per line.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.logs import deployment_id_var
from deployer.events import DeployEvent, EnvironmentDestroyed, LogLine

log = logging.getLogger("autostack.reporter")
# an environment's own events (it was destroyed) have no deployment to line up behind
LaneKey = int | tuple[int, str]
Report = Callable[[DeployEvent], Awaitable[None]]


@dataclass
class _Lines:
    """Log lines of one deployment waiting to be reported, as one event."""

    last: LogLine
    texts: list[str] = field(default_factory=list)

    def event(self) -> LogLine:
        last = self.last
        return LogLine(last.deployment_id, last.seq, last.at, "\n".join(self.texts), last.stream)


@dataclass
class _After:
    """An event reported once every lane has reported what it held when the event came."""

    event: DeployEvent
    earlier: list[asyncio.Future[None]]


_Item = DeployEvent | _Lines | _After | asyncio.Future[None]


def lane_of(event: DeployEvent) -> LaneKey:
    """The lane an event waits in: its deployment's, or its environment's."""
    if isinstance(event, EnvironmentDestroyed):
        return (event.project_id, event.environment)
    return event.deployment_id


class Lanes:
    """One queue per deployment, each drained in order by a task that runs while it holds events."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._lanes: dict[LaneKey, deque[_Item]] = {}
        self._tasks: dict[LaneKey, asyncio.Task[None]] = {}
        self._closed = False

    def put(self, event: DeployEvent) -> None:
        """Queue the event behind its lane's earlier ones; returns at once."""
        key = lane_of(event)
        if self._closed:
            # what reporting needs (the database, Redis) is being closed as well
            log.warning(
                "not reporting %s of %s: stopping", type(event).__name__, _named(key), extra=_extra(key)
            )
            return
        if isinstance(event, EnvironmentDestroyed):
            # marked inactive after the reports queued before: a deployment's late "success"
            # must not make a destroyed environment's Deployment active again
            item: _Item = _After(event, [self._mark(lane) for lane in self._lanes.values()])
        else:
            item = event
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
            self._tasks[key] = _start(self._drain(key, lane), key)
        waiting = lane[-1] if lane else None
        if isinstance(event, LogLine) and isinstance(waiting, _Lines):
            waiting.last = event
            waiting.texts.append(event.text)
        elif isinstance(event, LogLine):
            lane.append(_Lines(event, [event.text]))
        else:
            lane.append(item)

    @staticmethod
    def _mark(lane: deque[_Item]) -> asyncio.Future[None]:
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.append(marker)
        return marker

    async def _drain(self, key: LaneKey, lane: deque[_Item]) -> None:
        try:
            while lane:
                item = lane.popleft()
                if isinstance(item, asyncio.Future):
                    item.set_result(None)
                    continue
                if isinstance(item, _After):
                    await asyncio.gather(*item.earlier)
                    item = item.event
                event = item.event() if isinstance(item, _Lines) else item
                try:
                    await self._report(event)
                except Exception:
                    log.exception(
                        "reporting %s of %s failed", type(event).__name__, _named(key), extra=_extra(key)
                    )
        finally:
            # a lane is gone once it is empty: a new event starts it again
            del self._lanes[key]
            del self._tasks[key]

    def busy(self) -> list[LaneKey]:
        """The lanes holding events not reported yet."""
        return list(self._tasks)

    async def drained(self, seconds: float | None = None) -> list[LaneKey]:
        """Wait until every event queued so far (and any queued meanwhile) is reported, or for
        at most `seconds`; returns the lanes still busy then."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while self._tasks:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            await asyncio.wait(list(self._tasks.values()), timeout=left)
        return self.busy()

    async def close(self, seconds: float) -> list[LaneKey]:
        """Report what is queued for up to `seconds`, then stop; returns the lanes whose events
        were left unreported."""
        self._closed = True
        left = await self.drained(seconds)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return left


def _start(drain: Coroutine[Any, Any, None], key: LaneKey) -> asyncio.Task[None]:
    # the task's logs name its deployment, not the job whose event happened to open the lane
    context = contextvars.copy_context()
    context.run(deployment_id_var.set, key if isinstance(key, int) else None)
    return asyncio.create_task(drain, name=f"report {_named(key)}", context=context)


def _named(key: LaneKey) -> str:
    return f"deployment {key}" if isinstance(key, int) else f"environment {key[1]} of project {key[0]}"


def _extra(key: LaneKey) -> dict[str, int]:
    return {"deployment_id": key} if isinstance(key, int) else {}
