"""The JSON API's changes as a script sees them: answers, rows stored or removed, refusals, and
the same activity log entries as the page writes (who: the key; from where: its IP). The deploy
actions that reach the worker are in test_api_actions.py."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Route

from bot.site import site_routes
from store.models import ApiToken, AuditEvent, Deployment, Domain, EnvVar, Project
from store.teams import token_hash
from tests.web.dns_server import dns_server


@pytest.fixture
async def call(as_role, seeded, web):
    """A request with the API key of a given role: call(role, method, path, json=...)."""
    async with web.sessions.begin() as session:
        for role in ("viewer", "developer", "admin"):
            session.add(
                ApiToken(team_id=seeded.team_id, name=f"ci-{role}", token_hash=token_hash(role), role=role)
            )
    client = as_role("viewer")
    client.cookies.clear()

    async def send(role: str, method: str, path: str, **kwargs) -> httpx.Response:
        return await client.request(method, path, headers={"authorization": f"Bearer {role}"}, **kwargs)

    return send


async def activity(web, action: str) -> list[AuditEvent]:
    async with web.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_env_var_delete(call, web):
    env = "/api/v1/projects/shop/env"
    await call("developer", "PUT", f"{env}/REGION", json={"value": "eu", "scope": "production"})
    await call("developer", "PUT", f"{env}/REGION", json={"value": "us", "scope": "preview"})
    both = await call("developer", "DELETE", f"{env}/REGION")
    assert both.status_code == 409
    assert both.json() == {"error": "REGION is set in scopes preview, production; say which scope to delete"}
    deleted = await call("developer", "DELETE", f"{env}/REGION?scope=preview")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": "REGION", "scope": "preview"}
    async with web.sessions() as session:
        assert [(r.key, r.scope) for r in (await session.scalars(select(EnvVar))).all()] == [
            ("REGION", "production")
        ]
    [event] = await activity(web, "env.delete")
    assert (event.actor, event.target, event.details, event.source_ip) == (
        "api:ci-developer",
        "REGION",
        {"scope": "preview"},
        "127.0.0.1",
    )
    assert (await call("developer", "DELETE", f"{env}/REGION")).status_code == 200
    gone = await call("developer", "DELETE", f"{env}/REGION")
    assert gone.status_code == 404 and gone.json() == {"error": "shop has no variable REGION"}
    assert (await call("viewer", "DELETE", f"{env}/REGION")).status_code == 403
    unknown = await call("developer", "DELETE", "/api/v1/projects/nope/env/REGION")
    assert unknown.status_code == 404 and unknown.json() == {"error": "no project 'nope' in your team"}


async def test_domain_add_verify_remove(call, web):
    domains = "/api/v1/projects/shop/domains"
    added = await call("admin", "POST", domains, json={"hostname": "WWW.Example.com"})
    assert added.status_code == 201
    shown = added.json()
    assert shown["state"] == "pending" and shown["dns"]["name"] == "_autostack.www.example.com"
    assert (await call("admin", "POST", domains, json={"hostname": "www.example.com"})).status_code == 409
    bad = await call("admin", "POST", domains, json={"hostname": "not a domain"})
    assert bad.status_code == 400 and "is not a domain name" in bad.json()["error"]
    no_env = await call("admin", "POST", domains, json={"hostname": "x.example.com", "environment": "pr-9"})
    assert no_env.status_code == 400 and no_env.json() == {"error": "shop has no environment 'pr-9'"}
    assert (await call("admin", "POST", domains, content="[")).status_code == 400
    assert (await call("developer", "POST", domains, json={"hostname": "y.example.com"})).status_code == 403

    with dns_server() as (zone, address):
        web.nameservers = address
        pending = await call("admin", "POST", f"{domains}/www.example.com/verify")
        assert pending.status_code == 200 and pending.json()["state"] == "pending"
        assert "not found" in pending.json()["last_error"]
        zone.records[("_autostack.www.example.com", "TXT")] = shown["txt"]
        verified = await call("admin", "POST", f"{domains}/www.example.com/verify")
    assert verified.json()["state"] == "verified" and verified.json()["last_error"] is None
    assert [e.details["state"] for e in await activity(web, "domain.verify")] == ["pending", "verified"]
    missing = await call("admin", "POST", f"{domains}/other.example.com/verify")
    assert missing.status_code == 404 and missing.json() == {
        "error": "shop has no domain 'other.example.com'"
    }
    no_zone = await call("admin", "POST", f"{domains}/www.example.com/route53")
    assert no_zone.json() == {"error": "no Route53 hosted zone holds www.example.com"}

    removed = await call("admin", "DELETE", f"{domains}/www.example.com")
    assert removed.status_code == 200
    assert removed.json() == {"removed": "www.example.com", "route53_records_removed": 0}
    async with web.sessions() as session:
        assert (await session.scalars(select(Domain))).all() == []
    [event] = await activity(web, "domain.remove")
    assert (event.actor, event.target, event.source_ip) == ("api:ci-admin", "www.example.com", "127.0.0.1")


async def test_deploy_actions_refused_say_why_and_leave_nothing(call, seeded, web):
    # what an allowed one does is in test_api_actions.py, against what `serve` runs
    env = "/api/v1/projects/shop/environments"
    refused = await call("developer", "POST", f"{env}/production/redeploy")
    assert refused.status_code == 403 and "needs the admin role" in refused.json()["error"]
    assert (await call("viewer", "POST", f"{env}/pr-1/redeploy")).status_code == 403
    unknown = await call("developer", "POST", f"{env}/pr-9/redeploy")
    assert unknown.status_code == 404 and unknown.json() == {"error": "shop has no environment 'pr-9'"}
    nothing = await call("developer", "POST", f"{env}/pr-1/rollback")
    assert nothing.status_code == 409
    assert nothing.json() == {"error": "pr-1 has no earlier live deployment to roll back to"}
    bad = await call("developer", "POST", f"{env}/pr-1/rollback", json={"deployment": "x"})
    assert bad.status_code == 400 and bad.json() == {"error": "deployment 'x' is not a deployment number"}
    promote = f"/api/v1/deployments/{seeded.preview_deployment_id}/promote"
    assert (await call("developer", "POST", promote)).status_code == 403
    assert (await call("admin", "POST", "/api/v1/deployments/999999/promote")).status_code == 404
    assert (await call("developer", "DELETE", f"{env}/pr-1")).status_code == 403
    async with web.sessions() as session:
        assert len((await session.scalars(select(Deployment))).all()) == 2
    assert await activity(web, "redeploy") == await activity(web, "rollback") == []


async def test_an_upload_with_bad_names_or_too_big_leaves_nothing(call, web):
    bad = await call("admin", "POST", "/api/v1/projects/shop/environments/staging!/deployments", content=b"x")
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "environment 'staging!' is not allowed; use production, preview, pr-<number> or branch-<slug>"
    }
    web.deploy.max_upload_bytes = 10
    big = await call(
        "admin", "POST", "/api/v1/projects/fresh/environments/preview/deployments", content=b"x" * 11
    )
    assert big.status_code == 413 and big.json() == {"error": "upload is over 10 bytes"}
    async with web.sessions() as session:
        assert (await session.scalars(select(Project.name))).all() == ["shop"]
    assert list((web.deploy.data_dir / "uploads").iterdir()) == []


async def test_a_key_row_without_a_team_is_refused(as_role, seeded, web):
    async with web.sessions.begin() as session:
        session.add(ApiToken(team_id=None, name="stray", token_hash=token_hash("stray"), role="owner"))
    client = as_role("viewer")
    client.cookies.clear()
    answer = await client.get("/api/v1/projects", headers={"authorization": "Bearer stray"})
    assert answer.status_code == 401 and "missing or unknown API key" in answer.json()["error"]


async def test_openapi_document_lists_every_api_route(as_role, seeded):
    client = as_role("viewer")
    client.cookies.clear()
    served = await client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    spec = served.json()
    api_routes = [r for r in site_routes() if isinstance(r, Route) and r.path.startswith("/api/v1/")]
    assert len(api_routes) == 19
    for route in api_routes:
        if route.path == "/api/v1/openapi.json":
            continue
        path = route.path.replace("{id:int}", "{id}")
        for method in route.methods - {"HEAD"}:
            operation = spec["paths"][path][method.lower()]
            assert operation["x-autostack-permission"] == route.permission, path
            assert {p["name"] for p in operation["parameters"]} == set(re.findall(r"\{(\w+)", path))
    upload = spec["paths"]["/api/v1/projects/{name}/environments/{env}/deployments"]["post"]
    assert list(upload["requestBody"]["content"]) == ["application/gzip"]
