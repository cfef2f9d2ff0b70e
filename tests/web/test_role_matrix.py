"""Every page route x every role, against answers written out here from what each role is for
(docs/product.md §7 and the pull-request commands), not read from bot/web/roles.py: a permission
flipped there fails this test. The JSON API has its own table in test_api_authorization.py.

What the roles are for: everyone in a team sees its projects, deployments, variables (not secret
values), domains, team and analytics; a developer also changes variables and deploys or rolls
back previews; an admin also deploys production, promotes, destroys, manages domains, members
and API keys, and reads the activity log; only the owner registers the GitHub App.
"""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from bot.web import page_routes
from store.encryption import env_var_context
from store.models import EnvVar
from tests.web import harness
from tests.web.harness import Seed
from tests.wired import Served

ROLES = ("viewer", "developer", "admin", "owner")
PUBLIC = {"/login", "/login/github", "/login/callback", "/login/local", "/logout", "/invite/{token}"}
E = "/projects/{name}/environments/{env}"
# (method, route, env): answers of viewer, developer, admin, owner. An allowed call may still be
# refused for what it asks (409: nothing earlier to roll back to, 404: no such domain), never 403.
TABLE: dict[tuple[str, str, str], tuple[int, int, int, int]] = {
    ("GET", "/", ""): (200, 200, 200, 200),
    ("GET", "/projects/{name}", ""): (200, 200, 200, 200),
    ("GET", "/projects/{name}/analytics", ""): (200, 200, 200, 200),
    ("GET", "/deployments/{id:int}", ""): (200, 200, 200, 200),
    ("GET", "/deployments/{id:int}/events", ""): (200, 200, 200, 200),
    ("GET", "/deployments/{id:int}/log.txt", ""): (200, 200, 200, 200),
    ("GET", f"{E}/runtime", "pr-1"): (200, 200, 200, 200),
    ("GET", f"{E}/runtime/events", "pr-1"): (200, 200, 200, 200),
    ("POST", "/deployments/{id:int}/promote", ""): (403, 403, 303, 303),
    ("GET", "/deployments/{id:int}/compare", ""): (200, 200, 200, 200),
    # the seeded pr-1 deployment is live: nothing to cancel, nothing failed to build again
    ("POST", "/deployments/{id:int}/cancel", ""): (403, 409, 409, 409),
    ("POST", "/deployments/{id:int}/redeploy", ""): (403, 409, 409, 409),
    ("POST", f"{E}/redeploy", "pr-1"): (403, 303, 303, 303),
    ("POST", f"{E}/redeploy", "production"): (403, 403, 303, 303),
    ("GET", f"{E}/rollback", "pr-1"): (403, 409, 409, 409),
    ("GET", f"{E}/rollback", "production"): (403, 403, 409, 409),
    ("GET", f"{E}/destroy", "pr-1"): (403, 403, 200, 200),
    ("GET", f"{E}/destroy", "production"): (403, 403, 200, 200),
    ("GET", "/projects/{name}/delete", ""): (403, 403, 200, 200),
    ("POST", "/projects/{name}/delete", ""): (403, 403, 303, 303),
    ("POST", f"{E}/rollback", "pr-1"): (403, 409, 409, 409),
    ("POST", f"{E}/rollback", "production"): (403, 403, 409, 409),
    ("POST", f"{E}/destroy", "pr-1"): (403, 403, 303, 303),
    ("POST", f"{E}/destroy", "production"): (403, 403, 303, 303),
    ("GET", "/projects/{name}/env", ""): (200, 200, 200, 200),
    ("POST", "/projects/{name}/env/set", ""): (403, 303, 303, 303),
    ("POST", "/projects/{name}/env/delete", ""): (403, 303, 303, 303),
    ("GET", "/projects/{name}/domains", ""): (200, 200, 200, 200),
    ("POST", "/projects/{name}/domains/add", ""): (403, 403, 303, 303),
    ("POST", "/projects/{name}/domains/verify", ""): (403, 403, 404, 404),
    ("POST", "/projects/{name}/domains/route53", ""): (403, 403, 404, 404),
    ("POST", "/projects/{name}/domains/remove", ""): (403, 403, 404, 404),
    ("GET", "/team", ""): (200, 200, 200, 200),
    ("POST", "/team/invite", ""): (403, 403, 200, 200),
    ("POST", "/team/role", ""): (403, 403, 303, 303),
    ("POST", "/team/remove", ""): (403, 403, 303, 303),
    ("POST", "/team/tokens", ""): (403, 403, 200, 200),
    ("GET", "/team/activity", ""): (403, 403, 200, 200),
    ("GET", "/setup", ""): (403, 403, 403, 200),
    ("GET", "/setup/callback", ""): (403, 403, 403, 400),
}
# what these do when allowed reaches the queue, the deploy worker or the target: those run
# against what `serve` runs (test_allowed_deploy_actions_run), the rest on the harness
ACTIONS = {
    ("POST", "/deployments/{id:int}/promote", ""),
    ("POST", f"{E}/redeploy", "pr-1"),
    ("POST", f"{E}/redeploy", "production"),
    ("POST", "/projects/{name}/delete", ""),
    ("POST", f"{E}/destroy", "pr-1"),
    ("POST", f"{E}/destroy", "production"),
}
ALL_CASES = [
    (key, role, status) for key, answers in TABLE.items() for role, status in zip(ROLES, answers, strict=True)
]
ACTING = [(key, role, status) for key, role, status in ALL_CASES if key in ACTIONS and status == 303]
CASES = [case for case in ALL_CASES if case not in ACTING]
FORM = {
    "csrf": "test-csrf",
    "key": "A",
    "value": "1",
    "hostname": "m.example.com",
    "role": "viewer",
    "member": "1",
    "confirmed": "yes",
    "confirm_name": "shop",
}


def page_table() -> set[tuple[str, str]]:
    """(method, path) of every page route that needs a signed-in member."""
    return {
        (method, route.path)
        for route in page_routes()
        if isinstance(route, Route) and route.path not in PUBLIC and not route.path.startswith("/api/")
        for method in route.methods or ()
        if method != "HEAD"
    }


def concrete(path: str, env: str, seeded: Seed, name: str = "shop") -> str:
    values = {"name": name, "env": env, "id:int": str(seeded.preview_deployment_id)}
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)


def test_the_table_names_every_page_route():
    tabled = {(method, route) for method, route, _ in TABLE}
    assert page_table() - tabled == set(), "page routes with no row in TABLE"
    assert tabled - page_table() == set(), "rows for routes the page does not have"


@pytest.mark.parametrize(
    ("key", "role", "status"),
    CASES,
    ids=[f"{m} {r} {e} {role}".replace("  ", " ") for (m, r, e), role, _ in CASES],
)
async def test_route_role(key, role, status, as_role, seeded, web):
    method, route, env = key
    async with web.sessions.begin() as session:
        key_id, blob = web.keyring.encrypt("1", env_var_context(seeded.project_id, "A", "all"))
        session.add(
            EnvVar(project_id=seeded.project_id, key="A", scope="all", key_id=key_id, ciphertext=blob)
        )
    path = concrete(route, env, seeded)
    if route == "/setup/callback":
        path += "?state=wrong"
    response = await as_role(role).request(method, path, data=FORM if method == "POST" else None)
    assert response.status_code == status, response.text[:300]


async def test_allowed_deploy_actions_run(served: Served):
    # one project of its own per case: each action changes (or deletes) what it acts on
    wrong = []
    for number, ((method, route, env), role, status) in enumerate(ACTING):
        name = f"shop{number}"
        seeded = await harness.seed(served.sessions, name)
        cookie = harness.cookie_for(served.services.settings, seeded.users[role], seeded.team_id)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=served.app),
            base_url="http://autostack.test",
            cookies={"autostack_session": cookie},
        )
        async with client:
            path = concrete(route, env, seeded, name)
            response = await client.request(method, path, data={**FORM, "confirm_name": name})
        if response.status_code != status:
            wrong.append(f"{method} {path} as {role}: {response.status_code}: {response.text[:200]}")
    assert wrong == []
    await served.idle()
    # what they queued reached the deploy worker, which knew each job by its name
    jobs = await served.jobs()
    assert jobs and all(ok for _, _, ok in jobs), jobs
