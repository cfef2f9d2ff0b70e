"""Domain ownership checks: a TXT record `_autostack.<domain>` holding the token, a CNAME to the
environment's own host, or (at a zone apex, where no CNAME can be) an ALIAS/ANAME or A records
equal to that host's. The decision is pure; the lookups are the only I/O."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dns.asyncresolver

METHODS = ("txt", "cname", "alias")


def txt_name(hostname: str) -> str:
    """Where the TXT record goes."""
    return f"_autostack.{hostname}"


def txt_value(token: str) -> str:
    """What the TXT record must hold."""
    return f"autostack-verify={token}"


@dataclass(frozen=True)
class DnsRecords:
    """What DNS answered for a domain (empty when nothing); `apex` when the name holds an SOA."""

    txt: tuple[str, ...] = ()
    cname: str | None = None
    a: tuple[str, ...] = ()
    apex: bool = False


def verdict(
    method: str,
    hostname: str,
    token: str,
    expected_cname: str,
    records: DnsRecords,
    ingress_a: tuple[str, ...] = (),
) -> str | None:
    """None when the records prove ownership, else what is missing, said so it can be fixed.

    `ingress_a` are the A records of `expected_cname`: a domain answering with exactly those
    (an ALIAS/ANAME, a flattened CNAME or plain A records) points at the environment too."""
    if method == "txt":
        if txt_value(token) in records.txt:
            return None
        return f'TXT {txt_name(hostname)} = "{txt_value(token)}" not found'
    found = (records.cname or "").rstrip(".").lower()
    if found == expected_cname.lower():
        return None
    if records.a and set(records.a) == set(ingress_a):
        return None
    if method == "cname" and not records.apex:
        return f"CNAME {hostname} → {expected_cname} not found" + (
            f" (it points to {found})" if found else ""
        )
    wanted = f"ALIAS/ANAME {hostname} → {expected_cname}"
    if not ingress_a:
        return f"{wanted} cannot be checked: {expected_cname} has no A records yet"
    wanted += f" (or A records {_listed(ingress_a)})"
    if not records.a:
        return f"{wanted} not found"
    return f"{wanted} not found (it answers {_listed(records.a)})"


def _listed(addresses: tuple[str, ...]) -> str:
    return ", ".join(sorted(addresses)) or "none"


def _resolver(nameserver: tuple[str, int] | None, lifetime: float) -> dns.asyncresolver.Resolver:
    # imported on first use: dnspython is a few MB that web processes which never check a
    # domain (the check runs in the worker) need not carry
    import dns.asyncresolver

    resolver = dns.asyncresolver.Resolver(configure=nameserver is None)
    if nameserver is not None:
        resolver.nameservers = [nameserver[0]]
        resolver.port = nameserver[1]
    resolver.lifetime = lifetime
    return resolver


async def _answer(resolver: dns.asyncresolver.Resolver, name: str, kind: str) -> list[Any]:
    """The rdata of `kind` (TXT's have .strings, CNAME's .target, A's .address; dnspython types
    them all as the Rdata base), empty when the name has none."""
    import dns.exception
    import dns.resolver

    try:
        return list(await resolver.resolve(name, kind))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers, dns.exception.Timeout):
        return []


async def lookup(
    hostname: str,
    nameserver: tuple[str, int] | None = None,
    lifetime: float = 3.0,
    *,
    addresses: bool = False,
) -> DnsRecords:
    """The TXT at `_autostack.<hostname>` and the CNAME of `hostname`; with `addresses` also its
    A records and whether it is a zone apex (missing ones empty)."""
    resolver = _resolver(nameserver, lifetime)
    kinds = ("TXT", "CNAME", "A", "SOA") if addresses else ("TXT", "CNAME")
    names = {"TXT": txt_name(hostname)}
    # asked together: an unreachable server costs one timeout, not one per question
    answers = await asyncio.gather(*(_answer(resolver, names.get(kind, hostname), kind) for kind in kinds))
    found = dict(zip(kinds, answers, strict=True))
    txt = tuple(b"".join(r.strings).decode() for r in found["TXT"])
    cname = str(found["CNAME"][0].target) if found["CNAME"] else None
    if not addresses:
        return DnsRecords(txt, cname)
    a = tuple(sorted(str(r.address) for r in found["A"]))
    # a name under a CNAME is no apex, though its SOA query answers with the target zone's SOA
    return DnsRecords(txt, cname, a, apex=cname is None and bool(found["SOA"]))


async def addresses_of(
    hostname: str, nameserver: tuple[str, int] | None = None, lifetime: float = 3.0
) -> tuple[str, ...]:
    """The A records `hostname` answers with, sorted (empty when none)."""
    answer = await _answer(_resolver(nameserver, lifetime), hostname, "A")
    return tuple(sorted(str(r.address) for r in answer))


async def canonical_name(
    hostname: str, nameserver: tuple[str, int] | None = None, lifetime: float = 3.0, hops: int = 8
) -> str:
    """Where `hostname`'s CNAME chain ends (itself when it has none): the ingress load balancer's
    own name when the apps domain is a CNAME to it."""
    resolver, name = _resolver(nameserver, lifetime), hostname.rstrip(".").lower()
    for _ in range(hops):
        answer = await _answer(resolver, name, "CNAME")
        if not answer:
            break
        name = str(answer[0].target).rstrip(".").lower()
    return name
