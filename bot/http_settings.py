"""Settings that bound what one HTTP client may hold of `autostack serve`: time and sockets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.env_values import SettingsError, int_value


@dataclass(frozen=True)
class HttpLimits:
    """How long a client may take over each part of a request, and how many sockets all may hold."""

    # from connecting (or from the first byte after an answer) to the end of the headers
    header_timeout: float = 10.0
    # for the whole body, extended by a second per BODY_GRACE_BYTES received (see bot/http_limits.py)
    body_timeout: float = 30.0
    # between an answer and the next request on the same connection
    keepalive_timeout: float = 5.0
    max_connections: int = 4096
    # the request line and every header together
    max_header_bytes: int = 64 * 1024


def seconds_value(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    """`name` as a number of seconds in low..high (decimals allowed), `default` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds; e.g. {default:g}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw} is out of range; use {low:g}..{high:g} seconds")
    return value


def http_limits(env: Mapping[str, str]) -> HttpLimits:
    """The HTTP limits from HTTP_HEADER_TIMEOUT, HTTP_BODY_TIMEOUT, HTTP_KEEPALIVE_TIMEOUT,
    HTTP_MAX_CONNECTIONS and HTTP_MAX_HEADER_BYTES."""
    defaults = HttpLimits()
    return HttpLimits(
        header_timeout=seconds_value(env, "HTTP_HEADER_TIMEOUT", defaults.header_timeout, low=0.1, high=3600),
        body_timeout=seconds_value(env, "HTTP_BODY_TIMEOUT", defaults.body_timeout, low=0.1, high=3600),
        keepalive_timeout=seconds_value(
            env, "HTTP_KEEPALIVE_TIMEOUT", defaults.keepalive_timeout, low=0.1, high=3600
        ),
        max_connections=int_value(
            env, "HTTP_MAX_CONNECTIONS", defaults.max_connections, low=1, high=1_000_000
        ),
        max_header_bytes=int_value(
            env, "HTTP_MAX_HEADER_BYTES", defaults.max_header_bytes, low=1024, high=16 * 1024 * 1024
        ),
    )
