"""The two kinds of failure every adapter raises (GitHub, Kubernetes, AWS, the database):
try again later, or give up and say why. The workers map them to retries in one place
(bot.worker.retries), for deliveries and deployments alike."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from store.transient import is_database_outage


class TemporaryError(Exception):
    """Worth retrying later: a 5xx, a rate limit, a timeout, a lock held by someone else."""

    # seconds until trying again can work (a rate limit's reset), when the error knows
    retry_after: float | None = None


class PermanentError(Exception):
    """Retrying cannot help: bad input or a refusal; record the reason and stop."""


def is_temporary(exc: BaseException) -> bool:
    """True for a TemporaryError and for an outage of the database or Redis (a restart, a
    failover): retried later; anything else is final."""
    if isinstance(exc, (TemporaryError, RedisConnectionError, RedisTimeoutError)):
        return True
    return is_database_outage(exc)
