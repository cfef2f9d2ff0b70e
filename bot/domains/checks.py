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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domains.dns import addresses_of, lookup, verdict
from bot.domains.ports import DomainRouting
from deployer.targets.local.router import hostname_for
from store.activity import record_activity
from store.models import Domain, Project, utcnow

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


async def check_domain(
    check: DnsCheck, domain: Domain, project: Project, routing: DomainRouting | None = None
) -> None:
    """Look the domain up now; when proven, mark it verified (and route it, given `routing`)."""
    by_address = domain.verification != "txt"
    cname = expected_cname(check.apps_domain, project.name, domain.environment)
    records, ingress_a = await asyncio.gather(
        lookup(domain.hostname, check.nameservers, addresses=by_address),
        addresses_of(cname, check.nameservers) if by_address else _nothing(),
    )
    if records.apex and domain.verification == "cname":
        # no CNAME can exist at a zone apex: the page shows the ALIAS/A instructions from now on
        domain.verification = "alias"
    missing = verdict(domain.verification, domain.hostname, domain.token, cname, records, ingress_a)
    domain.checked_at, domain.last_error = utcnow(), missing
    if missing is None and domain.state != "verified":
        domain.state, domain.verified_at = "verified", utcnow()
        # local target: no certificate; on kubernetes cert-manager reports into cert_state
        domain.cert_state = domain.cert_state or "not needed (local router)"
        if routing is not None:
            routing.add(domain.hostname, project.name, domain.environment)


async def verify_pending(
    sessions: async_sessionmaker[AsyncSession], check: DnsCheck
) -> list[tuple[str, str]]:
    """Check every pending domain once (the periodic job); return the (project, environment) of
    each domain verified now."""
    verified: list[tuple[str, str]] = []
    async with sessions.begin() as session:
        rows = (
            await session.execute(select(Domain, Project).join(Project).where(Domain.state == "pending"))
        ).all()
        for domain, project in rows:
            await check_domain(check, domain, project)
            if domain.state == "verified":
                verified.append((project.name, domain.environment))
                await record_activity(
                    session,
                    actor="autostack",
                    action="domain.verified",
                    target=domain.hostname,
                    project_id=project.id,
                    by=domain.verification,
                )
    return verified


class RouteSync:
    """This process's router kept equal to the verified domains in the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], routing: DomainRouting) -> None:
        self.sessions, self.routing = sessions, routing
        self.routed: dict[str, tuple[str, str]] = {}

    async def sync(self) -> None:
        """Route what was verified (here or by any worker), unroute what was removed."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Domain.hostname, Project.name, Domain.environment)
                    .join(Project)
                    .where(Domain.state == "verified")
                )
            ).all()
        wanted = {hostname: (project, environment) for hostname, project, environment in rows}
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
