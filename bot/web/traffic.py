"""The local router's side of the web page: custom domains routed by Host header, and its
request log written to the database in batches for the traffic analytics, with each client's
country from iptocc (the Regional Internet Registries' allocations, shipped in its wheel: offline,
MIT/Apache-2.0; the registered country of the address block, right for ~95% of IPv4)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from datetime import datetime

from iptocc import country_code

from bot.web.stats import LOCAL_COUNTRY
from deployer.targets.local.router import Hit, Router, hostname_for
from store.db import Sessions
from store.environment_names import PRODUCTION, from_host_label
from store.models import utcnow
from store.traffic import NewHit, write_hits

log = logging.getLogger("autostack.web.traffic")
FLUSH_SECONDS = 2.0
MAX_BUFFER = 50_000


def country_of(client: str | None) -> str | None:
    """The client's country code, LOCAL_COUNTRY for loopback; None for private or unknown
    addresses. Looked up while flushing, off the request path."""
    if not client:
        return None
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    if (mapped or address).is_loopback:
        return LOCAL_COUNTRY
    return country_code(client)


def site_of(host: str, domain: str) -> tuple[str, str] | None:
    """(project, environment) a router host name stands for: the inverse of `hostname_for`."""
    if not host.endswith("." + domain):
        return None
    label = host[: -len(domain) - 1]
    if "." in label:
        return None
    name, sep, project = label.partition("--")
    if not sep:
        return name, PRODUCTION
    return project, from_host_label(name)


class LocalDomainRouting:
    """`DomainRouting` on the local router: a custom domain is an alias of its environment's host."""

    def __init__(self, router: Router, domain: str = "localhost") -> None:
        self.router, self.domain = router, domain

    def add(self, hostname: str, project: str, environment: str) -> None:
        """Route `hostname` to the environment's app."""
        self.router.alias(hostname, hostname_for(project, environment, self.domain))

    def remove(self, hostname: str) -> None:
        """Stop routing `hostname`."""
        self.router.unalias(hostname)


class TrafficLog:
    """Buffers the router's hits (no I/O on the request path) and writes them every few seconds."""

    def __init__(self, sessions: Sessions, router: Router, domain: str = "localhost") -> None:
        self.sessions, self.router, self.domain = sessions, router, domain
        self.buffer: list[tuple[Hit, datetime]] = []
        router.on_request = self.record

    def record(self, hit: Hit) -> None:
        """Remember one hit; dropped when the database has fallen far behind."""
        if len(self.buffer) < MAX_BUFFER:
            self.buffer.append((hit, utcnow()))

    async def flush(self) -> int:
        """Write the buffered hits; return how many."""
        batch, self.buffer = self.buffer, []
        if not batch:
            return 0
        sites = {
            hit.host: site_of(self.router.aliases.get(hit.host, hit.host), self.domain) for hit, _ in batch
        }
        hits = []
        for hit, at in batch:
            site = sites[hit.host]
            project, environment = site if site else (None, None)
            hits.append(
                NewHit(
                    at, hit.host, project, environment, hit.status, hit.duration_ms, country_of(hit.client)
                )
            )
        await write_hits(self.sessions, hits)
        return len(batch)

    async def run(self, interval: float = FLUSH_SECONDS) -> None:
        """Flush every `interval` seconds until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.flush()
                except Exception:
                    log.exception("writing %d router hits failed", len(self.buffer))
        finally:
            with contextlib.suppress(Exception):
                await self.flush()
