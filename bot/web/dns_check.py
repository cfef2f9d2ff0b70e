"""Domain ownership checks: a TXT record `_autostack.<domain>` holding the token, or a CNAME
to the environment's own host. The decision is pure; the lookup is the only I/O."""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver


def txt_name(hostname: str) -> str:
    """Where the TXT record goes."""
    return f"_autostack.{hostname}"


def txt_value(token: str) -> str:
    """What the TXT record must hold."""
    return f"autostack-verify={token}"


@dataclass(frozen=True)
class Records:
    """What DNS answered for a domain (empty when nothing)."""

    txt: tuple[str, ...] = ()
    cname: str | None = None


def verdict(method: str, hostname: str, token: str, expected_cname: str, records: Records) -> str | None:
    """None when the records prove ownership, else what is missing, said so it can be fixed."""
    if method == "cname":
        found = (records.cname or "").rstrip(".").lower()
        if found == expected_cname.lower():
            return None
        return f"CNAME {hostname} → {expected_cname} not found" + (
            f" (it points to {found})" if found else ""
        )
    if txt_value(token) in records.txt:
        return None
    return f'TXT {txt_name(hostname)} = "{txt_value(token)}" not found'


async def lookup(hostname: str, nameserver: tuple[str, int] | None = None, lifetime: float = 3.0) -> Records:
    """The TXT at `_autostack.<hostname>` and the CNAME of `hostname` (missing ones empty)."""
    resolver = dns.asyncresolver.Resolver(configure=nameserver is None)
    if nameserver is not None:
        resolver.nameservers = [nameserver[0]]
        resolver.port = nameserver[1]
    resolver.lifetime = lifetime
    txt: tuple[str, ...] = ()
    cname: str | None = None
    try:
        answer = await resolver.resolve(txt_name(hostname), "TXT")
        txt = tuple(b"".join(record.strings).decode() for record in answer)  # type: ignore[attr-defined]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers, dns.exception.Timeout):
        pass
    try:
        answer = await resolver.resolve(hostname, "CNAME")
        cname = str(answer[0].target)  # type: ignore[attr-defined]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers, dns.exception.Timeout):
        pass
    return Records(txt, cname)
