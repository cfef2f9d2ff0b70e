"""Changes to a project's custom domains, shared by the page and the JSON API: add, check now,
create the Route53 records, remove. Each writes the activity log, or raises ActionError."""

from __future__ import annotations

import logging
import re
import secrets

from starlette.requests import Request

from bot.aws_errors import AWSError, AWSTemporaryError
from bot.domains.checks import DnsCheck, check_domain, expected_cname
from bot.domains.dns import METHODS, canonical_name, txt_name, txt_value
from bot.domains.elb import LoadBalancer
from bot.domains.ports import DnsZones
from bot.domains.route53 import (
    NoLoadBalancer,
    Record,
    Zone,
    apex_records,
    domain_records,
    zone_for,
)
from bot.web.context import ActionError, Viewer, WebState, actor, viewers_project, web_state
from store import domains as stored
from store.models import Domain, Project

log = logging.getLogger("autostack.web.domains")
HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


async def zones(web: WebState) -> list[Zone]:
    """The Route53 hosted zones, none when AWS is not configured."""
    return await web.dns_zones.zones() if web.dns_zones is not None else []


async def planned_records(
    web: WebState, dns: DnsZones, domain: Domain, project: Project, zone: Zone, *, removing: bool = False
) -> list[Record]:
    """The records AutoStack makes in Route53 for a domain: TXT and CNAME, or at the zone's apex
    TXT and aliases of the ingress load balancer (the end of the environment host's CNAMEs)."""
    target = expected_cname(web.settings.apps_domain, project.name, domain.environment)
    proof = (txt_name(domain.hostname), txt_value(domain.token))
    if domain.hostname != zone.name:
        return domain_records(domain.hostname, *proof, target)
    ingress = await canonical_name(target, web.nameservers)
    if removing:
        # aliases are matched by name and target: no load balancer lookup needed to remove them
        return apex_records(domain.hostname, *proof, LoadBalancer(ingress, "", dualstack=True))
    balancer = await dns.load_balancer(ingress)
    return apex_records(domain.hostname, *proof, balancer)


def route53_failed(exc: AWSError) -> ActionError:
    """The answer when Route53 failed: 503 when trying again shortly can work (throttled,
    unreachable), 502 when AWS refused."""
    if isinstance(exc, AWSTemporaryError):
        return ActionError(503, f"{exc}; Route53 is busy or out of reach, try again in a minute")
    return ActionError(502, str(exc))


async def _domain(request: Request, viewer: Viewer, name: str, hostname: str) -> tuple[Project, Domain]:
    project = await viewers_project(request, viewer, name)
    domain = await stored.domain_of(web_state(request).sessions, project.id, hostname)
    if domain is None:
        raise ActionError(404, f"{name} has no domain {hostname!r}")
    return project, domain


async def _is_route53_apex(web: WebState, hostname: str) -> bool:
    try:
        zone = zone_for(hostname, await zones(web))
    except AWSError as exc:
        # only a hint for the instructions: adding the domain does not depend on it
        log.warning("could not tell whether %s is a zone apex: %s", hostname, exc)
        return False
    return zone is not None and zone.name == hostname


async def add_domain(
    request: Request, viewer: Viewer, name: str, hostname: str, environment: str, method: str
) -> Domain:
    """Add a pending domain to an environment (method: txt, cname, or alias for a zone apex)."""
    hostname = hostname.strip().lower().rstrip(".")
    if not HOSTNAME.match(hostname):
        raise ActionError(400, f"{hostname!r} is not a domain name like app.example.com")
    if method not in METHODS:
        raise ActionError(400, f"verification {method!r} is not one of {', '.join(METHODS)}")
    web = web_state(request)
    if method == "cname" and await _is_route53_apex(web, hostname):
        method = "alias"  # a CNAME cannot exist at the apex of a zone
    project = await viewers_project(request, viewer, name)
    try:
        domain = await stored.add_domain(
            web.sessions,
            actor(request, viewer),
            project.id,
            environment=environment,
            hostname=hostname,
            verification=method,
            token=secrets.token_hex(16),
        )
    except stored.NoSuchEnvironment:
        raise ActionError(400, f"{name} has no environment {environment!r}") from None
    except stored.DomainTaken as exc:
        raise ActionError(409, str(exc)) from None
    return domain


async def verify_domain(request: Request, viewer: Viewer, name: str, hostname: str) -> Domain:
    """Check one domain's DNS now; route it here at once when it is proven."""
    web = web_state(request)
    project, domain = await _domain(request, viewer, name, hostname)
    was = domain.state
    outcome = await check_domain(DnsCheck(web.settings.apps_domain, web.nameservers), domain, project.name)
    domain = await stored.record_check(web.sessions, actor(request, viewer), domain.id, outcome)
    if domain.state == "verified" and was != "verified" and web.routing is not None:
        web.routing.add(domain.hostname, project.name, domain.environment)
    if domain.state == "verified" and was != "verified":
        await _domains_changed(web, project.name, domain.environment)
    return domain


async def create_records(
    request: Request, viewer: Viewer, name: str, hostname: str
) -> tuple[Zone, list[Record]]:
    """Create (UPSERT) the domain's records in the Route53 zone it lives in."""
    web = web_state(request)
    project, domain = await _domain(request, viewer, name, hostname)
    try:
        zone = zone_for(domain.hostname, await zones(web))
        if zone is None or web.dns_zones is None:
            raise ActionError(404, f"no Route53 hosted zone holds {domain.hostname}")
        records = await planned_records(web, web.dns_zones, domain, project, zone)
        await web.dns_zones.upsert(zone, records)
    except NoLoadBalancer as exc:
        raise ActionError(409, str(exc)) from exc
    except AWSError as exc:
        raise route53_failed(exc) from exc
    await stored.record_route53(
        web.sessions, actor(request, viewer), domain, zone.name, [f"{r.name} {r.type}" for r in records]
    )
    return zone, records


async def remove_domain(request: Request, viewer: Viewer, name: str, hostname: str) -> int:
    """Remove the domain, its route and the Route53 records AutoStack made for it; return how
    many records went."""
    web = web_state(request)
    project, domain = await _domain(request, viewer, name, hostname)
    removed = 0
    try:
        zone = zone_for(domain.hostname, await zones(web))
        if zone is not None and web.dns_zones is not None:
            planned = await planned_records(web, web.dns_zones, domain, project, zone, removing=True)
            removed = await web.dns_zones.delete(zone, planned)
    except AWSError as exc:
        # the domain is kept so removing can be tried again: its records would be left behind
        raise route53_failed(exc) from exc
    await stored.remove_domain(web.sessions, actor(request, viewer), domain.id, removed)
    if web.routing is not None:
        web.routing.remove(domain.hostname)
    if domain.state == "verified":
        await _domains_changed(web, project.name, domain.environment)
    return removed


async def _domains_changed(web: WebState, project: str, environment: str) -> None:
    # the cluster's Ingress follows at once rather than at the next deploy
    if web.deploy is not None and web.deploy.domains_changed is not None:
        await web.deploy.domains_changed(project, environment)
