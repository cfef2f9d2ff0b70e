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


# AWS's codes for throttling and for its own trouble, as botocore reports them in
# `exc.response["Error"]["Code"]` (any service: Route53, ELB, SES, S3, ECR, EKS, STS)
AWS_TEMPORARY_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",  # Route53: a change to the same record set still in flight
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# botocore's exceptions for a connection that failed, dropped or timed out, by name: the
# store loads no AWS SDK, and each of these is a subclass of one of the names
_AWS_CONNECTION_FAILURES = frozenset(
    {"EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError", "ReadTimeoutError"}
)


def is_aws_outage(exc: BaseException) -> bool:
    """True when a botocore error says AWS throttled the call, failed on its side (5xx) or could
    not be reached: worth trying again."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str((response.get("Error") or {}).get("Code", ""))
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return code in AWS_TEMPORARY_CODES or status == 429 or (isinstance(status, int) and status >= 500)
    return any(kind.__name__ in _AWS_CONNECTION_FAILURES for kind in type(exc).__mro__)


def is_temporary(exc: BaseException) -> bool:
    """True for a TemporaryError, for an outage of the database or Redis (a restart, a
    failover) and for AWS throttling or outages: retried later; anything else is final."""
    if isinstance(exc, (TemporaryError, RedisConnectionError, RedisTimeoutError)):
        return True
    return is_database_outage(exc) or is_aws_outage(exc)
