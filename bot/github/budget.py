"""GitHub's limits as a budget shared by every AutoStack process of one installation.

Before a call: a concurrency slot (at most `concurrency` in flight per installation) and, for
a content-creating call, room in GitHub's content budget (80 a minute, 500 an hour). After a
rate-limit answer the installation is blocked until the reset, so no process asks GitHub
again before then. A short wait is slept; a longer one raises `GitHubRateLimited`, which
jobs defer on. `LocalBudget` is the one-process fallback; `RedisBudget` is shared.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from bot.github.errors import GitHubRateLimited

# GitHub's published content-creation limits, per installation.
CONTENT_PER_MINUTE = 80
CONTENT_PER_HOUR = 500
# GitHub allows 100 concurrent requests across everything; one installation gets far fewer.
CONCURRENCY = 8
# A holder that died frees its slot after this long.
LEASE_SECONDS = 60.0
# Waits up to this long are slept in place; longer ones defer the job.
SHORT_WAIT = 1.5
POLL = 0.05


@dataclass(frozen=True, slots=True)
class Limits:
    """The budget's sizes (tests shrink them)."""

    concurrency: int = CONCURRENCY
    per_minute: int = CONTENT_PER_MINUTE
    per_hour: int = CONTENT_PER_HOUR
    lease: float = LEASE_SECONDS


DEFAULT_LIMITS = Limits()


class Budget(Protocol):
    """Reservations against an installation's budget."""

    async def reserve(self, installation_id: int, token: str, *, content: bool) -> float:
        """0 when a slot (and content room) is taken under `token`, else seconds to wait."""
        ...

    async def release(self, installation_id: int, token: str) -> None:
        """Give the concurrency slot back."""
        ...

    async def block(self, installation_id: int, seconds: float) -> None:
        """GitHub said wait: refuse every call of the installation for `seconds`."""
        ...


@asynccontextmanager
async def reserved(
    budget: Budget, installation_id: int, what: str, *, content: bool, short_wait: float = SHORT_WAIT
) -> AsyncIterator[None]:
    """Hold a slot for one call: sleep through short waits, raise `GitHubRateLimited` on long ones."""
    token = f"{time.time_ns()}-{id(asyncio.current_task())}"
    waited = 0.0
    while True:
        wait = await budget.reserve(installation_id, token, content=content)
        if wait <= 0:
            break
        if waited + wait > short_wait:
            raise GitHubRateLimited(
                f"{what}: installation {installation_id} is over its GitHub budget; "
                f"try again in {wait:.0f} s",
                retry_after=max(wait, POLL),
            )
        pause = min(wait, POLL * 4)
        await asyncio.sleep(pause)
        waited += pause
    try:
        yield
    finally:
        await budget.release(installation_id, token)


class LocalBudget:
    """The budget inside one process: for tests, dry runs and processes without Redis."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._inflight: dict[int, set[str]] = {}
        self._created: dict[int, deque[float]] = {}
        self._blocked: dict[int, float] = {}

    async def reserve(self, installation_id: int, token: str, *, content: bool) -> float:
        """0 when a slot (and content room) is taken under `token`, else seconds to wait."""
        now = self._clock()
        blocked = self._blocked.get(installation_id, 0.0) - now
        if blocked > 0:
            return blocked
        inflight = self._inflight.setdefault(installation_id, set())
        if len(inflight) >= self.limits.concurrency:
            return POLL
        if content:
            created = self._created.setdefault(installation_id, deque())
            while created and created[0] <= now - 3600:
                created.popleft()
            in_minute = [moment for moment in created if moment > now - 60]
            if len(in_minute) >= self.limits.per_minute:
                return in_minute[0] + 60 - now
            if len(created) >= self.limits.per_hour:
                return created[0] + 3600 - now
            created.append(now)
        inflight.add(token)
        return 0.0

    async def release(self, installation_id: int, token: str) -> None:
        """Give the concurrency slot back."""
        self._inflight.get(installation_id, set()).discard(token)

    async def block(self, installation_id: int, seconds: float) -> None:
        """GitHub said wait: refuse every call of the installation for `seconds`."""
        until = self._clock() + seconds
        self._blocked[installation_id] = max(self._blocked.get(installation_id, 0.0), until)
