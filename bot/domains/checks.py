"""Domain verification and routing: the DNS check of one domain, the periodic check of every
pending one (an arq cron job in the worker, see `bot.worker.crons.check_domains`), and each web
process's router kept in step with the verified domains in the database.

The check runs once a minute across all workers (arq's unique cron) and only writes the
database; routing is per process (each `serve` has its own local router), so every process
reads the verified domains back every few seconds. That works with one embedded process, with
several replicas, and with workers that have no router at all."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.domains.dns import addresses_of, lookup, verdict
from bot.domains.ports import DomainRouting
from deployer.targets.local.router import hostname_for
from store import domains as stored
from store.domains import CheckOutcome, Sessions
from store.models import Domain, utcnow

log = logging.getLogger("autostack.web.domains")
SYNC_SECONDS = 5.0


def expected_cname(settings_domain: str | None, project: str, environment: str) -> str:
    """The host a CNAME must point to: the environment's own host name."""
    return hostname_for(project, environment, settings_domain or "localhost")


@dataclass(frozen=True)
class DnsCheck:
    """What a DNS check needs: the apps domain CNAMEs point into and the resolver to ask."""

    apps_domain: str | None
    nameservers: tuple[str, int] | None = None  # a test's DNS server; None: the system resolver


async def _nothing() -> tuple[str, ...]:
    return ()


async def check_domain(check: DnsCheck, domain: Domain, project: str) -> CheckOutcome:
    """Look the domain up now: what it proves, and the record still missing (None: proven)."""
    by_address = domain.verification != "txt"
    cname = expected_cname(check.apps_domain, project, domain.environment)
    records, ingress_a = await asyncio.gather(
        lookup(domain.hostname, check.nameservers, addresses=by_address),
        addresses_of(cname, check.nameservers) if by_address else _nothing(),
    )
    verification = domain.verification
    if records.apex and verification == "cname":
        # no CNAME can exist at a zone apex: the page shows the ALIAS/A instructions from now on
        verification = "alias"
    missing = verdict(verification, domain.hostname, domain.token, cname, records, ingress_a)
    return CheckOutcome(verification, missing, utcnow())


async def verify_pending(sessions: Sessions, check: DnsCheck) -> list[tuple[str, str]]:
    """Check every pending domain once (the periodic job); return the (project, environment) of
    each domain verified now."""
    verified: list[tuple[str, str]] = []
    for domain, project in await stored.pending_domains(sessions):
        outcome = await check_domain(check, domain, project.name)
        if await stored.record_periodic_check(sessions, domain.id, outcome):
            verified.append((project.name, domain.environment))
    return verified


class RouteSync:
    """This process's router kept equal to the verified domains in the database."""

    def __init__(self, sessions: Sessions, routing: DomainRouting) -> None:
        self.sessions, self.routing = sessions, routing
        self.routed: dict[str, tuple[str, str]] = {}

    async def sync(self) -> None:
        """Route what was verified (here or by any worker), unroute what was removed."""
        wanted = await stored.verified_routes(self.sessions)
        for hostname in self.routed.keys() - wanted.keys():
            self.routing.remove(hostname)
        for hostname, (project, environment) in wanted.items():
            if self.routed.get(hostname) != (project, environment):
                self.routing.add(hostname, project, environment)
        self.routed = wanted

    async def run(self, interval: float = SYNC_SECONDS) -> None:
        """Sync now (so routes survive a restart), then every `interval` seconds until cancelled."""
        while True:
            try:
                await self.sync()
            except Exception:
                log.exception("reading verified domains failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)
