"""What the router changes in the headers it forwards: hop-by-hop ones out, X-Forwarded-* in.

Everything else passes unchanged, in order and with repeats (Set-Cookie), as RFC 9110 §7.6 asks
of an intermediary; these are pure functions over ASGI's raw (name, value) byte pairs.
"""

from __future__ import annotations

import ipaddress
from email.utils import formatdate

Headers = list[tuple[bytes, bytes]]

# RFC 9110 §7.6.1, plus the proxy authentication pair that belongs to this hop only
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")


def end_to_end(headers: Headers, *, keep: frozenset[bytes] = frozenset()) -> Headers:
    """The headers without hop-by-hop ones and those the Connection header names (`keep` spared)."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    drop = (HOP_BY_HOP | named) - keep
    return [(name, value) for name, value in headers if name.lower() not in drop]


def trusted_peer(client: str | None) -> bool:
    """A proxy on this machine may speak for the client; anyone else's X-Forwarded-* are replaced."""
    if client is None:
        return True  # a Unix socket: only this machine can reach it
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


def request_headers(headers: Headers, *, client: str | None, scheme: str) -> Headers:
    """What the app receives: the client's end-to-end headers (Host included) plus X-Forwarded-*.

    X-Forwarded-For gets the client appended to a trusted proxy's chain; Proto and Host keep a
    trusted proxy's values, and otherwise say what the router saw.
    """
    kept = end_to_end(headers)
    trusted = trusted_peer(client)
    seen = {name.lower(): value for name, value in kept}
    chain = b", ".join(value for name, value in kept if name.lower() == b"x-forwarded-for")
    forwarded_for = [chain] if trusted and chain else []
    if client is not None:
        forwarded_for.append(client.encode("latin-1"))
    proto = seen.get(b"x-forwarded-proto") if trusted else None
    host = seen.get(b"x-forwarded-host") if trusted else None
    out = [(name, value) for name, value in kept if name.lower() not in _FORWARDED]
    if forwarded_for:
        out.append((b"x-forwarded-for", b", ".join(forwarded_for)))
    out.append((b"x-forwarded-proto", proto or scheme.encode("latin-1")))
    if host or b"host" in seen:
        out.append((b"x-forwarded-host", host or seen[b"host"]))
    return out


def response_headers(headers: Headers, *, now: float | None = None) -> Headers:
    """What the client receives: the app's end-to-end headers, and a Date if the app sent none.

    RFC 9110 §6.6.1 has a forwarding recipient with a clock add the Date a response lacks.
    """
    out = end_to_end(headers)
    if not any(name.lower() == b"date" for name, _ in out):
        out.append((b"date", formatdate(now, usegmt=True).encode("latin-1")))
    return out
