"""A project's custom domains page: add (with DNS instructions), check now, create the records
in Route53, remove. The changes themselves live in domain_actions, shared with the JSON API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.aws_errors import AWSError
from bot.domains.certificates import certificate_states
from bot.domains.checks import expected_cname
from bot.domains.dns import txt_name, txt_value
from bot.domains.route53 import zone_for
from bot.web.context import ActionError, Viewer, page, refuse, render, viewers_project, web_state
from bot.web.domain_actions import add_domain, create_records, remove_domain, verify_domain, zones
from store import domains as stored
from store.environment_names import PRODUCTION


async def domains_page(
    request: Request, viewer: Viewer, error: str | None = None, status: int = 200
) -> Response:
    """The domains with their state and the DNS record each one needs."""
    web = web_state(request)
    try:
        project = await viewers_project(request, viewer, request.path_params["name"])
    except ActionError as exc:
        return refuse(request, viewer, 404, str(exc))
    rows = await stored.domains_of(web.sessions, project.id)
    envs = await stored.active_environment_names(web.sessions, project.id)
    route53: dict[int, str] = {}
    try:
        found = await zones(web)
    except AWSError as exc:
        found, error = [], error or str(exc)
    for row in rows:
        zone = zone_for(row.hostname, found)
        if zone is not None:
            route53[row.id] = zone.name
    # a zone apex cannot hold a CNAME: those rows show the ALIAS/ANAME or A record to make
    apex = {row.id for row in rows if row.verification == "alias" or route53.get(row.id) == row.hostname}
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
        certificates=await certificate_states(web.deploy.target if web.deploy else None, project.name, rows),
        apex=apex,
        environments=envs or [PRODUCTION],
        error=error,
    )


async def _answer(request: Request, viewer: Viewer, error: ActionError) -> Response:
    # a missing project, domain or zone is an error page; the rest is shown above the domains table
    if error.status == 404:
        return refuse(request, viewer, 404, str(error))
    return await domains_page(request, viewer, str(error), error.status)


async def domain_add(request: Request, viewer: Viewer) -> Response:
    """Add a pending domain to an environment."""
    form = await request.form()
    name = request.path_params["name"]
    try:
        await add_domain(
            request,
            viewer,
            name,
            str(form.get("hostname", "")),
            str(form.get("environment", PRODUCTION)),
            str(form.get("verification", "txt")),
        )
    except ActionError as exc:
        return await _answer(request, viewer, exc)
    return RedirectResponse(f"/projects/{name}/domains", 303)


async def _on_domain(request: Request, viewer: Viewer, action: str) -> Response:
    form = await request.form()
    name, hostname = request.path_params["name"], str(form.get("hostname", ""))
    change = {"verify": verify_domain, "route53": create_records, "remove": remove_domain}[action]
    try:
        await change(request, viewer, name, hostname)
    except ActionError as exc:
        return await _answer(request, viewer, exc)
    return RedirectResponse(f"/projects/{name}/domains", 303)


async def domain_verify(request: Request, viewer: Viewer) -> Response:
    """Check one domain's DNS now."""
    return await _on_domain(request, viewer, "verify")


async def domain_route53(request: Request, viewer: Viewer) -> Response:
    """Create (UPSERT) the domain's records in the Route53 zone it lives in."""
    return await _on_domain(request, viewer, "route53")


async def domain_remove(request: Request, viewer: Viewer) -> Response:
    """Remove the domain, its route and the Route53 records AutoStack made for it."""
    return await _on_domain(request, viewer, "remove")


routes = [
    page("/projects/{name}/domains", domains_page, "domains.view"),
    page("/projects/{name}/domains/add", domain_add, "domains.write", ("POST",)),
    page("/projects/{name}/domains/verify", domain_verify, "domains.write", ("POST",)),
    page("/projects/{name}/domains/route53", domain_route53, "domains.write", ("POST",)),
    page("/projects/{name}/domains/remove", domain_remove, "domains.write", ("POST",)),
]
