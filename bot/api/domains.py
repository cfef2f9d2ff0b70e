"""The JSON API's custom domains: list, add (answering with the DNS record to create), check now,
create the records in Route53, remove. Same changes and activity log as the domains page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.routes import PROJECT, api, json_object
from bot.domains.checks import expected_cname
from bot.domains.dns import METHODS, txt_name, txt_value
from bot.web.context import Viewer, WebState, viewers_project, web_state
from bot.web.domain_actions import add_domain, create_records, remove_domain, verify_domain
from store import domains as stored
from store.environment_names import PRODUCTION
from store.models import Domain

_ADD_BODY = {
    "type": "object",
    "properties": {
        "hostname": {"type": "string"},
        "environment": {"type": "string", "default": PRODUCTION},
        "verification": {"enum": list(METHODS), "default": "txt"},
    },
    "required": ["hostname"],
}


def _shown(web: WebState, project: str, domain: Domain) -> dict[str, Any]:
    target = expected_cname(web.settings.apps_domain, project, domain.environment)
    if domain.verification == "txt":
        record = {"type": "TXT", "name": txt_name(domain.hostname), "value": txt_value(domain.token)}
    elif domain.verification == "alias":
        record = {
            "type": "ALIAS",
            "name": domain.hostname,
            "value": target,
            "or": f"A records equal {target}'s",
        }
    else:
        record = {"type": "CNAME", "name": domain.hostname, "value": target}
    return {
        "hostname": domain.hostname,
        "environment": domain.environment,
        "state": domain.state,
        "verification": domain.verification,
        "dns": record,
        "last_error": domain.last_error,
        "checked_at": domain.checked_at.isoformat() if domain.checked_at else None,
        "certificate": domain.cert_state,
    }


async def list_domains(request: Request, viewer: Viewer) -> Response:
    """A project's domains, their state and the DNS record each one needs."""
    web, name = web_state(request), request.path_params["name"]
    project = await viewers_project(request, viewer, name, "this key's team")
    rows = await stored.domains_of(web.sessions, project.id)
    return JSONResponse([_shown(web, name, d) for d in rows])


async def post_domain(request: Request, viewer: Viewer) -> Response:
    """Add a domain: {"hostname": "...", "environment": "production", "verification": "txt"}."""
    body = await json_object(request)
    name = request.path_params["name"]
    domain = await add_domain(
        request,
        viewer,
        name,
        str(body.get("hostname", "")),
        str(body.get("environment", PRODUCTION)),
        str(body.get("verification", "txt")),
    )
    shown = _shown(web_state(request), name, domain)
    # kept from the first version of this answer, which scripts may read
    shown["txt"] = txt_value(domain.token)
    return JSONResponse(shown, status_code=201)


async def verify(request: Request, viewer: Viewer) -> Response:
    """Check the domain's DNS now; answers its state and, while pending, what is missing."""
    name = request.path_params["name"]
    domain = await verify_domain(request, viewer, name, request.path_params["hostname"])
    return JSONResponse(_shown(web_state(request), name, domain))


async def route53(request: Request, viewer: Viewer) -> Response:
    """Create (UPSERT) the domain's records in the Route53 hosted zone holding it."""
    name, hostname = request.path_params["name"], request.path_params["hostname"]
    zone, records = await create_records(request, viewer, name, hostname)
    return JSONResponse({"zone": zone.name, "records": [f"{r.name} {r.type}" for r in records]})


async def delete_domain(request: Request, viewer: Viewer) -> Response:
    """Remove the domain, its routing and the Route53 records AutoStack made for it."""
    hostname = request.path_params["hostname"].lower()
    removed = await remove_domain(request, viewer, request.path_params["name"], hostname)
    return JSONResponse({"removed": hostname, "route53_records_removed": removed})


_D = f"{PROJECT}/domains/{{hostname}}"
routes = [
    api(f"{PROJECT}/domains", list_domains, "domains.view", "GET", "List domains"),
    api(
        f"{PROJECT}/domains", post_domain, "domains.write", "POST", "Add a domain", body=_ADD_BODY, status=201
    ),
    api(f"{_D}/verify", verify, "domains.write", "POST", "Check a domain's DNS now"),
    api(f"{_D}/route53", route53, "domains.write", "POST", "Create a domain's records in Route53"),
    api(_D, delete_domain, "domains.write", "DELETE", "Remove a domain, its routing and its Route53 records"),
]
