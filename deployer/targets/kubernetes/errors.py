"""The kubernetes target's two kinds of error, and the wrapping of the client's exceptions."""

from __future__ import annotations

import json

from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from deployer.targets.base import TargetError
from store.errors import PermanentError, TemporaryError

# 409 is only temporary for writes that lost an optimistic-concurrency race; apply conflicts
# between field managers are a different, permanent report (see apply.FieldConflict).
_TEMPORARY_STATUS = {408, 429, 500, 502, 503, 504}


class ClusterError(TargetError, PermanentError):
    """A permanent failure talking to the cluster or AWS (forbidden, invalid object, not found)."""


class ClusterTemporaryError(TemporaryError):
    """A failure worth retrying later: throttling, timeouts, the API server restarting."""


def wrap_api_error(exc: Exception, doing: str) -> Exception:
    """Our error for a `kubernetes` ApiException (or connection failure) met while `doing`."""
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", "") or type(exc).__name__
    body = getattr(exc, "body", None)
    detail = _message(body) or str(exc)
    if status is None or status in _TEMPORARY_STATUS:
        return ClusterTemporaryError(f"{doing}: {reason} {detail}".strip())
    return ClusterError(f"{doing}: {status} {reason}: {detail}")


def unreachable(exc: BaseException) -> Exception | None:
    """The failure to reach the API server at all (refused, reset, dropped) behind `exc`, if
    that is what it is: the client's discovery re-raises some of those as a ValueError about
    the host's scheme, with the connection failure as its context."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return None
        if isinstance(current, (MaxRetryError, NewConnectionError, ProtocolError, ConnectionError)):
            return current
        current = current.__cause__ or current.__context__
    return None


def _message(body: object) -> str:
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if not isinstance(body, str):
        return ""
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return body[:300]
