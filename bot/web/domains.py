"""A project's custom domains: add (with DNS instructions), verify now or by the periodic job,
route once verified, remove (route and record together)."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.context import Viewer, WebState, audit, page, refuse, render, team_project, web_state
from bot.web.dns_check import lookup, txt_name, txt_value, verdict
from bot.web.route53 import Record, Route53Error, Zone, domain_records, zone_for
from deployer.targets.local.router import hostname_for
from store.models import Domain, Environment, Project, utcnow

log = logging.getLogger("autostack.web.domains")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CHECK_INTERVAL = 60.0


def expected_cname(settings_domain: str | None, project: str, environment: str) -> str:
    """The host a CNAME must point to: the environment's own host name."""
    return hostname_for(project, environment, settings_domain or "localhost")


def managed_records(web: WebState, domain: Domain, project: Project, zone: Zone) -> list[Record]:
    """The records AutoStack makes in Route53 for a domain; a zone's apex cannot hold a CNAME,
    so there only the TXT is made."""
    target = expected_cname(web.settings.apps_domain, project.name, domain.environment)
    records = domain_records(domain.hostname, txt_name(domain.hostname), txt_value(domain.token), target)
    return records[:1] if domain.hostname == zone.name else records


async def _zones(web: WebState) -> list[Zone]:
    return await web.dns_zones.zones() if web.dns_zones is not None else []


async def check_domain(web: WebState, domain: Domain, project: Project) -> None:
    """Look the domain up now; when proven, mark it verified and route it."""
    records = await lookup(domain.hostname, web.nameservers)
    cname = expected_cname(web.settings.apps_domain, project.name, domain.environment)
    missing = verdict(domain.verification, domain.hostname, domain.token, cname, records)
    domain.checked_at, domain.last_error = utcnow(), missing
    if missing is None and domain.state != "verified":
        domain.state, domain.verified_at = "verified", utcnow()
        # local target: no certificate; on kubernetes cert-manager reports into cert_state
        domain.cert_state = domain.cert_state or "not needed (local router)"
        if web.routing is not None:
            web.routing.add(domain.hostname, project.name, domain.environment)


async def verify_pending(web: WebState) -> int:
    """Check every pending domain once (the periodic job); return how many got verified."""
    verified = 0
    async with web.sessions.begin() as session:
        rows = (
            await session.execute(select(Domain, Project).join(Project).where(Domain.state == "pending"))
        ).all()
        for domain, project in rows:
            await check_domain(web, domain, project)
            verified += domain.state == "verified"
    return verified


async def route_verified(web: WebState) -> None:
    """Route every verified domain (at start-up, so routes survive a restart)."""
    if web.routing is None:
        return
    async with web.sessions() as session:
        rows = (
            await session.execute(select(Domain, Project).join(Project).where(Domain.state == "verified"))
        ).all()
    for domain, project in rows:
        web.routing.add(domain.hostname, project.name, domain.environment)


async def watch_domains(web: WebState, interval: float = CHECK_INTERVAL) -> None:
    """The periodic verification job; runs until cancelled."""
    await route_verified(web)
    while True:
        try:
            await verify_pending(web)
        except Exception:
            log.exception("checking pending domains failed; trying again in %.0fs", interval)
        await asyncio.sleep(interval)


async def domains_page(
    request: Request, viewer: Viewer, error: str | None = None, status: int = 200
) -> Response:
    """The domains with their state and the DNS record each one needs."""
    web = web_state(request)
    async with web.sessions() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return refuse(request, viewer, 404, f"no project {request.path_params['name']!r} in your team")
        rows = (
            await session.scalars(
                select(Domain).where(Domain.project_id == project.id).order_by(Domain.hostname)
            )
        ).all()
        envs = (
            await session.scalars(
                select(Environment.name).where(
                    Environment.project_id == project.id, Environment.state == "active"
                )
            )
        ).all()
    route53: dict[int, str] = {}
    try:
        zones = await _zones(web)
    except Route53Error as exc:
        zones, error = [], error or str(exc)
    for row in rows:
        zone = zone_for(row.hostname, zones)
        if zone is not None:
            route53[row.id] = zone.name
    records = {
        row.id: (
            txt_name(row.hostname),
            txt_value(row.token),
            expected_cname(web.settings.apps_domain, project.name, row.environment),
        )
        for row in rows
    }
    return render(
        request,
        "domains.html",
        viewer,
        status=status,
        project=project,
        rows=rows,
        records=records,
        route53=route53,
        environments=envs or ["production"],
        error=error,
    )


async def domain_add(request: Request, viewer: Viewer) -> Response:
    """Add a pending domain to an environment."""
    form = await request.form()
    hostname = str(form.get("hostname", "")).strip().lower().rstrip(".")
    method = "cname" if form.get("verification") == "cname" else "txt"
    environment = str(form.get("environment", "production"))
    if not _HOSTNAME.match(hostname):
        return await domains_page(
            request, viewer, f"{hostname!r} is not a domain name like app.example.com", 400
        )
    web = web_state(request)
    try:
        async with web.sessions.begin() as session:
            project = await team_project(session, viewer, request.path_params["name"])
            if project is None:
                return refuse(request, viewer, 404, "no such project")
            session.add(
                Domain(
                    project_id=project.id,
                    environment=environment,
                    hostname=hostname,
                    verification=method,
                    token=secrets.token_hex(16),
                )
            )
            audit(
                session,
                request,
                viewer.login,
                viewer.team.id,
                "domain.add",
                hostname,
                project.id,
                environment=environment,
            )
    except IntegrityError:
        return await domains_page(request, viewer, f"{hostname} is already attached to a project", 409)
    return RedirectResponse(f"/projects/{project.name}/domains", 303)


async def _owned(request: Request, viewer: Viewer, session: AsyncSession) -> tuple[Project, Domain] | None:
    form = await request.form()
    project = await team_project(session, viewer, request.path_params["name"])
    if project is None:
        return None
    domain = await session.scalar(
        select(Domain).where(
            Domain.project_id == project.id, Domain.hostname == str(form.get("hostname", ""))
        )
    )
    return (project, domain) if domain is not None else None


async def domain_verify(request: Request, viewer: Viewer) -> Response:
    """Check one domain's DNS now."""
    web = web_state(request)
    async with web.sessions.begin() as session:
        found = await _owned(request, viewer, session)
        if found is None:
            return refuse(request, viewer, 404, "no such domain")
        project, domain = found
        await check_domain(web, domain, project)
        audit(
            session,
            request,
            viewer.login,
            viewer.team.id,
            "domain.verify",
            domain.hostname,
            project.id,
            state=domain.state,
        )
    return RedirectResponse(f"/projects/{project.name}/domains", 303)


async def domain_route53(request: Request, viewer: Viewer) -> Response:
    """Create (UPSERT) the domain's TXT and CNAME in the Route53 zone it lives in."""
    web = web_state(request)
    async with web.sessions.begin() as session:
        found = await _owned(request, viewer, session)
        if found is None:
            return refuse(request, viewer, 404, "no such domain")
        project, domain = found
        try:
            zone = zone_for(domain.hostname, await _zones(web))
            if zone is None:
                return refuse(request, viewer, 404, f"no Route53 hosted zone holds {domain.hostname}")
            records = managed_records(web, domain, project, zone)
            await web.dns_zones.upsert(zone, records)  # type: ignore[union-attr]
        except Route53Error as exc:
            return await domains_page(request, viewer, str(exc), 502)
        audit(
            session,
            request,
            viewer.login,
            viewer.team.id,
            "domain.route53",
            domain.hostname,
            project.id,
            zone=zone.name,
            records=[f"{r.name} {r.type}" for r in records],
        )
    return RedirectResponse(f"/projects/{project.name}/domains", 303)


async def domain_remove(request: Request, viewer: Viewer) -> Response:
    """Remove the domain, its route and the Route53 records AutoStack made for it."""
    web = web_state(request)
    async with web.sessions.begin() as session:
        found = await _owned(request, viewer, session)
        if found is None:
            return refuse(request, viewer, 404, "no such domain")
        project, domain = found
        removed = 0
        try:
            zone = zone_for(domain.hostname, await _zones(web))
            if zone is not None:
                removed = await web.dns_zones.delete(zone, managed_records(web, domain, project, zone))  # type: ignore[union-attr]
        except Route53Error as exc:
            # keep the domain so removing can be tried again: its records would be left behind
            return await domains_page(request, viewer, str(exc), 502)
        await session.delete(domain)
        audit(
            session,
            request,
            viewer.login,
            viewer.team.id,
            "domain.remove",
            domain.hostname,
            project.id,
            route53_records_removed=removed,
        )
    if web.routing is not None:
        web.routing.remove(domain.hostname)
    return RedirectResponse(f"/projects/{project.name}/domains", 303)


routes = [
    page("/projects/{name}/domains", domains_page, "domains.view"),
    page("/projects/{name}/domains/add", domain_add, "domains.write", ("POST",)),
    page("/projects/{name}/domains/verify", domain_verify, "domains.write", ("POST",)),
    page("/projects/{name}/domains/route53", domain_route53, "domains.write", ("POST",)),
    page("/projects/{name}/domains/remove", domain_remove, "domains.write", ("POST",)),
]
