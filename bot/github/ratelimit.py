"""Rate limits and transient failures: short waits are slept, long ones become a
`GitHubRateLimited` the caller defers on (a job re-scheduled at the reset, never a build
sleeping); 5xx and network failures are retried a bounded number of times.

This module knows HTTP status codes and headers, not the HTTP library: the client turns a
failed response into `HTTPFailure` and a network problem into `TransportFailure`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from bot.github.errors import GitHubPermanentError, GitHubRateLimited, GitHubTemporaryError

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVER_ERRORS = frozenset({500, 502, 503, 504})
# GitHub's advice for a secondary rate limit without Retry-After: wait at least a minute.
SECONDARY_LIMIT_WAIT = 60.0
# A limit shorter than this is waited out in place; a longer one defers the caller.
SHORT_WAIT = 2.0


class HTTPFailure(Exception):
    """GitHub answered with an error status."""

    def __init__(self, status: int, headers: Mapping[str, str], message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.headers = {key.lower(): value for key, value in headers.items()}
        self.message = message


class TransportFailure(Exception):
    """The request did not get an answer: timeout, refused connection, reset."""


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def is_rate_limited(failure: HTTPFailure) -> bool:
    """True for a primary or secondary rate-limit answer (429, or 403 saying so)."""
    if failure.status == 429:
        return True
    if failure.status != 403:
        return False
    return (
        "retry-after" in failure.headers
        or failure.headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in failure.message.lower()
    )


def limit_wait(failure: HTTPFailure, now: float) -> float | None:
    """Seconds until GitHub lets this installation call again, or None if not a rate limit.

    Primary limit: `x-ratelimit-remaining: 0` until `x-ratelimit-reset` (epoch seconds).
    Secondary: `retry-after`, or GitHub's advice of at least a minute when it gives none."""
    if not is_rate_limited(failure):
        return None
    retry_after = _number(failure.headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    reset = _number(failure.headers.get("x-ratelimit-reset"))
    if failure.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        return max(reset - now, 0.0) + 1.0
    return SECONDARY_LIMIT_WAIT


def retry_delay(failure: HTTPFailure, attempt: int, now: float, *, backoff: float = 1.0) -> float | None:
    """Seconds to wait before trying again, or None when retrying cannot help."""
    wait = limit_wait(failure, now)
    if wait is not None:
        return wait
    if failure.status in SERVER_ERRORS:
        return backoff * 2.0**attempt
    return None


@dataclass
class RetryPolicy:
    """How long and how often to retry; `sleep` and `clock` are injectable for tests."""

    attempts: int = 4
    max_wait: float = 120.0
    short_wait: float = SHORT_WAIT
    min_wait: float = 0.5
    backoff: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    clock: Callable[[], float] = field(default=time.time)

    async def run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`, waiting out rate limits and transient failures; wrap what remains."""
        attempt = 0
        while True:
            try:
                return await call()
            except HTTPFailure as failure:
                delay = retry_delay(failure, attempt, self.clock(), backoff=self.backoff)
                if delay is None:
                    raise GitHubPermanentError(
                        f"{what}: GitHub answered {failure.status}: {failure.message}",
                        status=failure.status,
                    ) from failure
                if is_rate_limited(failure) and (delay > self.short_wait or attempt + 1 >= self.attempts):
                    raise GitHubRateLimited(
                        f"{what}: GitHub's rate limit; try again in {delay:.0f} s", retry_after=delay
                    ) from failure
                reason = f"GitHub answered {failure.status}"
                self._give_up_if_needed(what, attempt, delay, failure, reason)
            except TransportFailure as failure:
                delay = self.backoff * 2**attempt
                reason = f"no answer from GitHub ({failure})"
                self._give_up_if_needed(what, attempt, delay, failure, reason)
            # Never a tight loop: even "Retry-After: 0" waits a little.
            wait = max(delay, self.min_wait)
            log.warning("%s: retrying in %.1f s (attempt %d)", what, wait, attempt + 1)
            await self.sleep(wait)
            attempt += 1

    def _give_up_if_needed(
        self, what: str, attempt: int, delay: float, failure: Exception, reason: str
    ) -> None:
        if attempt + 1 >= self.attempts or delay > self.max_wait:
            raise GitHubTemporaryError(
                f"{what}: {reason}; retry after {delay:.0f} s", retry_after=delay
            ) from failure
