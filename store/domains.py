"""Custom domains as stored: added to an environment, checked (DNS proof), verified, routed,
removed. Each change is one transaction with its activity-log entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.activity import Actor, record_activity, record_change
from store.environment_names import PRODUCTION
from store.models import Domain, Environment, Project, utcnow

Sessions = async_sessionmaker[AsyncSession]
# the activity log's author for what AutoStack's own checks change
AUTOSTACK = "autostack"


class DomainTaken(ValueError):
    """The hostname is attached to a project already (one project per hostname)."""


class NoSuchEnvironment(LookupError):
    """The project has no environment of that name (production always counts)."""


@dataclass(frozen=True)
class CheckOutcome:
    """What one DNS check found: the verification method to show from now on, and the record
    still missing (None: proven)."""

    verification: str
    missing: str | None
    checked_at: datetime


async def domains_of(sessions: Sessions, project_id: int) -> Sequence[Domain]:
    """The project's domains, by hostname."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Domain).where(Domain.project_id == project_id).order_by(Domain.hostname)
        )
        return rows.all()


async def active_environment_names(sessions: Sessions, project_id: int) -> Sequence[str]:
    """The names of the project's live environments (where a domain can point)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Environment.name).where(
                Environment.project_id == project_id, Environment.state == "active"
            )
        )
        return rows.all()


async def domain_of(sessions: Sessions, project_id: int, hostname: str) -> Domain | None:
    """The project's domain of that hostname (compared lower-case)."""
    async with sessions() as session:
        return await session.scalar(
            select(Domain).where(Domain.project_id == project_id, Domain.hostname == hostname.lower())
        )


async def add_domain(
    sessions: Sessions,
    by: Actor,
    project_id: int,
    *,
    environment: str,
    hostname: str,
    verification: str,
    token: str,
) -> Domain:
    """Attach a pending domain to an environment of the project."""
    try:
        async with sessions.begin() as session:
            known = await session.scalar(
                select(Environment.id).where(
                    Environment.project_id == project_id, Environment.name == environment
                )
            )
            if known is None and environment != PRODUCTION:
                raise NoSuchEnvironment(environment)
            domain = Domain(
                project_id=project_id,
                environment=environment,
                hostname=hostname,
                verification=verification,
                token=token,
            )
            session.add(domain)
            await record_change(session, by, "domain.add", hostname, project_id, environment=environment)
    except IntegrityError:
        raise DomainTaken(f"{hostname} is already attached to a project") from None
    return domain


def _apply(domain: Domain, outcome: CheckOutcome) -> bool:
    """Write the check's outcome into the row; True when it became verified now."""
    domain.verification = outcome.verification
    domain.checked_at, domain.last_error = outcome.checked_at, outcome.missing
    if outcome.missing is not None or domain.state == "verified":
        return False
    domain.state, domain.verified_at = "verified", utcnow()
    # local target: no certificate; on kubernetes cert-manager reports into cert_state
    domain.cert_state = domain.cert_state or "not needed (local router)"
    return True


async def record_check(sessions: Sessions, by: Actor, domain_id: int, outcome: CheckOutcome) -> Domain:
    """Store a check someone asked for; returns the domain as it is now."""
    async with sessions.begin() as session:
        domain = await session.get(Domain, domain_id)
        if domain is None:
            raise LookupError(f"domain {domain_id} is gone")
        _apply(domain, outcome)
        await record_change(
            session, by, "domain.verify", domain.hostname, domain.project_id, state=domain.state
        )
        return domain


async def pending_domains(sessions: Sessions) -> Sequence[tuple[Domain, Project]]:
    """Every domain waiting for its DNS proof, with its project."""
    async with sessions() as session:
        rows = await session.execute(select(Domain, Project).join(Project).where(Domain.state == "pending"))
        return [(domain, project) for domain, project in rows.all()]


async def record_periodic_check(sessions: Sessions, domain_id: int, outcome: CheckOutcome) -> bool:
    """Store a check of the periodic job; True when the domain became verified (logged then)."""
    async with sessions.begin() as session:
        domain = await session.get(Domain, domain_id)
        if domain is None or domain.state != "pending":
            return False
        verified = _apply(domain, outcome)
        if verified:
            await record_activity(
                session,
                actor=AUTOSTACK,
                action="domain.verified",
                target=domain.hostname,
                project_id=domain.project_id,
                by=domain.verification,
            )
        return verified


async def verified_routes(sessions: Sessions) -> dict[str, tuple[str, str]]:
    """hostname → (project, environment) of every verified domain: what the routers serve."""
    async with sessions() as session:
        rows = await session.execute(
            select(Domain.hostname, Project.name, Domain.environment)
            .join(Project)
            .where(Domain.state == "verified")
        )
        return {hostname: (project, environment) for hostname, project, environment in rows.all()}


async def verified_hostnames(sessions: Sessions, project: str, environment: str) -> tuple[str, ...]:
    """The verified hostnames of one environment, sorted."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Domain.hostname)
            .join(Project, Project.id == Domain.project_id)
            .where(Project.name == project, Domain.environment == environment, Domain.state == "verified")
            .order_by(Domain.hostname)
        )
        return tuple(rows)


async def record_route53(
    sessions: Sessions, by: Actor, domain: Domain, zone: str, records: Sequence[str]
) -> None:
    """Log that the domain's records were made in a Route53 zone."""
    async with sessions.begin() as session:
        await record_change(
            session,
            by,
            "domain.route53",
            domain.hostname,
            domain.project_id,
            zone=zone,
            records=list(records),
        )


async def remove_domain(sessions: Sessions, by: Actor, domain_id: int, records_removed: int) -> None:
    """Detach the domain (its Route53 records already removed, `records_removed` of them)."""
    async with sessions.begin() as session:
        domain = await session.get(Domain, domain_id)
        if domain is None:
            return
        await session.delete(domain)
        await record_change(
            session,
            by,
            "domain.remove",
            domain.hostname,
            domain.project_id,
            route53_records_removed=records_removed,
        )
