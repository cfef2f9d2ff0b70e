"""How the workers retry: one mapping from the error vocabulary (store.errors) to backoff,
for delivery jobs and deploy jobs alike. A temporary error is tried again later, up to a limit;
a permanent one, or the last try, is final and recorded with its reason."""

from __future__ import annotations

from datetime import timedelta

from store.errors import TemporaryError, is_temporary

__all__ = [
    "DEPLOY_TRIES",
    "MAX_TRIES",
    "OUTAGE_RETRY_FOR",
    "is_temporary",
    "outage_delay",
    "retry_after_of",
    "retry_delay",
]

# a delivery's handler runs at most this often when it keeps failing temporarily
MAX_TRIES = 8
# a deployment meeting a temporary error (the API server restarting, throttling, a database
# failover) goes back to the queue and starts over, at most this often, then fails with the cause
DEPLOY_TRIES = 5
# How long a job keeps retrying through a database or Redis outage before it records the
# delivery failed. If the database is still down then, the row stays unfinished and the
# sweeper queues it again once the database answers, so nothing acknowledged is lost.
OUTAGE_RETRY_FOR = timedelta(minutes=15)


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """When to try again: when the failure said (a rate limit's reset, plus a second so the
    reset has passed), else exponential backoff of 2 s, 4 s, 8 s … capped at 5 minutes."""
    if retry_after is not None:
        return retry_after + 1.0
    return float(min(300, 2**attempt))


def outage_delay(job_try: int) -> float:
    """Backoff while the database or Redis is down: 0.5 s, 1 s, 2 s … capped at 5 s, so work
    starts within seconds of the outage ending."""
    return min(5.0, 0.5 * 2.0 ** max(0, job_try - 1))


def retry_after_of(exc: BaseException) -> float | None:
    """The wait a temporary error asked for (a rate limit's reset), when it knows one."""
    return exc.retry_after if isinstance(exc, TemporaryError) else None
