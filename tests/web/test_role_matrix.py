"""Every route x every role: allowed exactly when the role table says so, checked server-side."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from bot.web import page_routes
from bot.web.roles import REQUIRED, ROLES, allows
from bot.web.team_store import token_hash
from store.models import ApiToken

PUBLIC = {
    "/login",
    "/login/github",
    "/login/callback",
    "/login/local",
    "/logout",
    "/invite/{token}",
    "/api/v1/openapi.json",
}
GUARDED = [r for r in page_routes() if isinstance(r, Route) and r.path not in PUBLIC]
CASES = [
    (route, method, role)
    for route in GUARDED
    for method in sorted(route.methods - {"HEAD"})
    for role in ROLES
]


def concrete(path: str, seeded) -> str:
    values = {
        "name": "shop",
        "env": "pr-1",
        "id:int": str(seeded.preview_deployment_id),
        "key": "API_VAR",
        "hostname": "m.example.com",
    }
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)


def test_every_route_is_public_or_in_the_role_table():
    for route in page_routes():
        if isinstance(route, Route) and route.path not in PUBLIC:
            assert getattr(route, "permission", None) in REQUIRED, f"{route.path} has no role check"


@pytest.mark.parametrize(
    ("route", "method", "role"), CASES, ids=[f"{m} {r.path} {role}" for r, m, role in CASES]
)
async def test_route_role(route, method, role, as_role, seeded, web):
    path = concrete(route.path, seeded)
    if path.startswith("/api/"):
        token = f"key-{role}"
        async with web.sessions.begin() as session:
            session.add(ApiToken(team_id=seeded.team_id, name=role, token_hash=token_hash(token), role=role))
        client = as_role("viewer")
        client.cookies.clear()
        body = {"value": "x", "hostname": f"{role}.example.com"} if method in ("PUT", "POST") else None
        response = await client.request(method, path, json=body, headers={"authorization": f"Bearer {token}"})
    else:
        form = {
            "csrf": "test-csrf",
            "key": "A",
            "value": "1",
            "hostname": "m.example.com",
            "role": "viewer",
            "member": "1",
        }
        if route.path == "/setup/callback":
            path += "?state=wrong"
        response = await as_role(role).request(method, path, data=form if method == "POST" else None)
    expected = allows(role, route.permission)
    if expected:
        assert response.status_code not in (401, 403), response.text[:300]
    else:
        assert response.status_code == 403


async def test_api_without_key_is_401(as_role, seeded):
    client = as_role("owner")
    client.cookies.clear()
    assert (await client.get("/api/v1/projects")).status_code == 401


async def test_openapi_document_lists_every_api_route(as_role, seeded):
    client = as_role("viewer")
    client.cookies.clear()
    served = await client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    spec = served.json()
    api_routes = [r for r in GUARDED if r.path.startswith("/api/v1/")]
    assert len(api_routes) == 14
    for route in api_routes:
        path = route.path.replace("{id:int}", "{id}")
        for method in route.methods - {"HEAD"}:
            operation = spec["paths"][path][method.lower()]
            assert operation["x-autostack-permission"] == route.permission, path
            assert {p["name"] for p in operation["parameters"]} == set(re.findall(r"\{(\w+)", path))
