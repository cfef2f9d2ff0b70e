"""Every JSON API route x every role x own team / other team, through the app `serve` runs, on
both backends, against answers written out below (never read from bot/web/roles.py), and what
each call left behind: a refused call changes nothing, an allowed one exactly what it says.

The route list is read from the app: a route missing from TABLE (or a row whose route is gone)
fails the test, so a new route cannot slip by unchecked.
"""

from __future__ import annotations

import asyncio
import io
import re
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Mount, Route

from bot.app import AutoStackApp
from bot.domains.route53 import Zone
from bot.services import Services
from store.encryption import env_var_context
from store.models import (
    ApiToken,
    Deployment,
    Domain,
    Environment,
    EnvVar,
    Installation,
    Project,
    Team,
    utcnow,
)
from store.teams import token_hash
from tests.web.dns_server import dns_server
from tests.wired import DEPLOY_SECONDS, Served

ADMIN_TOKEN = "local-admin-token"
ROLES = ("viewer", "developer", "admin", "owner")
OWN, OTHER = 1, 2  # the installations of the project's team and of another team


@dataclass(frozen=True)
class Row:
    """One request and its answers: the four roles of the project's own team, the same four of
    another team, the local admin token; and which parts of the world a success changes."""

    method: str
    route: str
    path: str
    own: tuple[int, int, int, int]
    other: tuple[int, int, int, int]
    admin_token: int
    changes: frozenset[str] = frozenset()
    missing: str | None = None  # the same request for an object that does not exist


def row(
    method: str,
    route: str,
    path: str,
    own: tuple[int, int, int, int],
    other: tuple[int, int, int, int],
    admin_token: int,
    changes: str = "",
    missing: str | None = None,
) -> Row:
    """A Row; `changes` names the snapshot parts a success changes, space-separated."""
    return Row(method, route, path, own, other, admin_token, frozenset(changes.split()), missing)


P = "/api/v1/projects/{name}"
E = f"{P}/environments/{{env}}"
D = f"{P}/domains/{{hostname}}"
DEPLOY = "deployments jobs"
UPLOAD = "deployments jobs uploads"
# {p}: the team's project, {d}: its pr-1 deployment, {h}: its domain, {n}: a fresh name
#   method    route (as in the app)          path (as sent)
#   own team: viewer developer admin owner | other team: viewer developer admin owner | admin token
TABLE = [
    row("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", (200,) * 4, (200,) * 4, 200),
    row("GET", "/api/v1/projects", "/api/v1/projects", (200,) * 4, (200,) * 4, 200),
    row("GET", "/api/v1/deployments", "/api/v1/deployments", (200,) * 4, (200,) * 4, 200),
    row(
        "GET", f"{P}/deployments", "/api/v1/projects/{p}/deployments", (200,) * 4, (404,) * 4, 200,
        missing="/api/v1/projects/gone/deployments",
    ),
    row(
        "GET", "/api/v1/deployments/{id:int}/logs", "/api/v1/deployments/{d}/logs", (200,) * 4, (404,) * 4,
        200, missing="/api/v1/deployments/999999/logs",
    ),
    row(
        "GET", f"{E}/logs", "/api/v1/projects/{p}/environments/pr-1/logs", (200,) * 4, (404,) * 4, 200,
        missing="/api/v1/projects/gone/environments/pr-1/logs",
    ),
    row(
        "GET", f"{E}/logs", "/api/v1/projects/{p}/environments/pr-404/logs", (404,) * 4, (404,) * 4, 404,
    ),
    row(
        "POST", f"{E}/deployments", "/api/v1/projects/{p}/environments/pr-1/deployments",
        (403, 200, 200, 200), (403, 404, 404, 404), 200, UPLOAD,
    ),
    row(
        "POST", f"{E}/deployments", "/api/v1/projects/{p}/environments/production/deployments",
        (403, 403, 200, 200), (403, 403, 404, 404), 200, UPLOAD,
    ),
    row(
        "POST", f"{E}/deployments", "/api/v1/projects/{n}/environments/preview/deployments",
        (403, 404, 200, 200), (403, 404, 200, 200), 200, f"projects environments {UPLOAD}",
    ),
    row(
        "POST", f"{E}/redeploy", "/api/v1/projects/{p}/environments/pr-1/redeploy",
        (403, 202, 202, 202), (403, 404, 404, 404), 202, DEPLOY,
        missing="/api/v1/projects/gone/environments/pr-1/redeploy",
    ),
    row(
        "POST", f"{E}/redeploy", "/api/v1/projects/{p}/environments/production/redeploy",
        (403, 403, 202, 202), (403, 403, 404, 404), 202, DEPLOY,
        missing="/api/v1/projects/gone/environments/production/redeploy",
    ),
    row(
        "POST", f"{E}/rollback", "/api/v1/projects/{p}/environments/pr-1/rollback",
        (403, 202, 202, 202), (403, 404, 404, 404), 202, DEPLOY,
        missing="/api/v1/projects/gone/environments/pr-1/rollback",
    ),
    row(
        "POST", f"{E}/rollback", "/api/v1/projects/{p}/environments/production/rollback",
        (403, 403, 202, 202), (403, 403, 404, 404), 202, DEPLOY,
        missing="/api/v1/projects/gone/environments/production/rollback",
    ),
    row(
        "DELETE", E, "/api/v1/projects/{p}/environments/pr-1",
        (403, 403, 200, 200), (403, 403, 404, 404), 200, "environments",
        missing="/api/v1/projects/gone/environments/pr-1",
    ),
    row(
        "POST", "/api/v1/deployments/{id:int}/promote", "/api/v1/deployments/{d}/promote",
        (403, 403, 202, 202), (403, 403, 404, 404), 202, DEPLOY,
        missing="/api/v1/deployments/999999/promote",
    ),
    row(
        "GET", f"{P}/env", "/api/v1/projects/{p}/env", (200,) * 4, (404,) * 4, 200,
        missing="/api/v1/projects/gone/env",
    ),
    row(
        "PUT", f"{P}/env/{{key}}", "/api/v1/projects/{p}/env/NEW_VAR",
        (403, 200, 200, 200), (403, 404, 404, 404), 200, "env_vars",
        missing="/api/v1/projects/gone/env/NEW_VAR",
    ),
    row(
        "DELETE", f"{P}/env/{{key}}", "/api/v1/projects/{p}/env/API_VAR",
        (403, 200, 200, 200), (403, 404, 404, 404), 200, "env_vars",
        missing="/api/v1/projects/gone/env/API_VAR",
    ),
    row(
        "GET", f"{P}/domains", "/api/v1/projects/{p}/domains", (200,) * 4, (404,) * 4, 200,
        missing="/api/v1/projects/gone/domains",
    ),
    row(
        "POST", f"{P}/domains", "/api/v1/projects/{p}/domains",
        (403, 403, 201, 201), (403, 403, 404, 404), 201, "domains",
        missing="/api/v1/projects/gone/domains",
    ),
    row(
        "POST", f"{D}/verify", "/api/v1/projects/{p}/domains/{h}/verify",
        (403, 403, 200, 200), (403, 403, 404, 404), 200, "domains",
        missing="/api/v1/projects/gone/domains/{h}/verify",
    ),
    row(
        "POST", f"{D}/route53", "/api/v1/projects/{p}/domains/{h}/route53",
        (403, 403, 200, 200), (403, 403, 404, 404), 200, "records",
        missing="/api/v1/projects/gone/domains/{h}/route53",
    ),
    row(
        "DELETE", D, "/api/v1/projects/{p}/domains/{h}",
        (403, 403, 200, 200), (403, 403, 404, 404), 200, "domains records",
        missing="/api/v1/projects/gone/domains/{h}",
    ),
]  # fmt: skip
PUBLIC = {("GET", "/api/v1/openapi.json")}
LISTS = {"/api/v1/projects", "/api/v1/deployments"}  # the team's: another team's project is not in them


class RecordingZones:
    """Route53 as the domain actions see it: one hosted zone, example.com; keeps every change."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, tuple[str, ...]]] = []

    async def zones(self) -> list[Zone]:
        return [Zone("Z1", "example.com")]

    async def upsert(self, zone: Zone, records: list[Any]) -> None:
        self.changes.append(("upsert", tuple(sorted(f"{r.name} {r.type}" for r in records))))

    async def delete(self, zone: Zone, records: list[Any]) -> int:
        self.changes.append(("delete", tuple(sorted(f"{r.name} {r.type}" for r in records))))
        return len(records)

    async def load_balancer(self, dns_name: str) -> Any:
        raise AssertionError("no apex domain here")


@dataclass
class World:
    """What `serve` runs (tests/wired.py), a client with no cookie, and what Route53 was asked."""

    served: Served
    client: httpx.AsyncClient
    zones: RecordingZones
    keys: dict[tuple[str, int], str] = field(default_factory=dict)
    made: int = 0

    @property
    def app(self) -> AutoStackApp:
        return self.served.app

    @property
    def services(self) -> Services:
        return self.served.services

    async def fresh_project(self) -> dict[str, str]:
        """A project of the OWN team: production and pr-1 live, each with an earlier live build
        to roll back to, one variable and one domain; its names for the paths."""
        self.made += 1
        name, host = f"p{self.made}", f"d{self.made}.example.com"
        async with self.services.sessions.begin() as session:
            project = Project(name=name, installation_id=OWN, full_name=f"own/{name}")
            session.add(project)
            await session.flush()
            ids = {}
            for env_name, kind in (("production", "production"), ("pr-1", "preview")):
                env = Environment(project_id=project.id, name=env_name, kind=kind)
                session.add(env)
                await session.flush()
                for state, age in (("superseded", 2), ("ready", 1)):
                    done = Deployment(
                        project_id=project.id,
                        environment_id=env.id,
                        environment=env_name,
                        trigger="push",
                        state=state,
                        commit_sha=str(age) * 40,
                        artifact=f"build-{age}",
                        ready_at=utcnow() - timedelta(hours=age),
                    )
                    session.add(done)
                    await session.flush()
                env.current_deployment_id = ids[env_name] = done.id
            key_id, blob = self.services.keyring.encrypt("v", env_var_context(project.id, "API_VAR", "all"))
            session.add(
                EnvVar(project_id=project.id, key="API_VAR", scope="all", ciphertext=blob, key_id=key_id)
            )
            session.add(Domain(project_id=project.id, hostname=host, token="t" * 32))
        return {"p": name, "d": str(ids["pr-1"]), "h": host, "n": f"new{self.made}"}

    async def snapshot(self) -> dict[str, Any]:
        """Everything a call could change, by part, once the deploy worker ran what it queued."""
        await self.served.idle()
        async with self.services.sessions() as session:
            names = dict((await session.execute(select(Project.id, Project.name))).all())
            projects = (await session.execute(select(Project.name, Project.installation_id))).all()
            envs = await session.execute(select(Environment.project_id, Environment.name, Environment.state))
            deployments = (await session.execute(select(Deployment.id, Deployment.project_id))).all()
            variables = (await session.execute(select(EnvVar.project_id, EnvVar.key, EnvVar.scope))).all()
            domains = (await session.execute(select(Domain.hostname, Domain.state, Domain.checked_at))).all()
        uploads = self.services.settings.data_dir / "uploads"
        return {
            "projects": sorted(tuple(r) for r in projects),
            "environments": sorted((names[p], n, s) for p, n, s in envs),
            "deployments": sorted((i, names[p]) for i, p in deployments),
            "env_vars": sorted((names[p], k, s) for p, k, s in variables),
            "domains": sorted((h, s, c is not None) for h, s, c in domains),
            "jobs": await self.served.jobs(),
            "records": list(self.zones.changes),
            "uploads": sorted(p.name for p in uploads.iterdir()) if uploads.exists() else [],
        }


async def _tokens(services: Services) -> dict[tuple[str, int], str]:
    """A key per role in the project's team (installation OWN) and in another team (OTHER)."""
    keys = {}
    async with services.sessions.begin() as session:
        for installation in (OWN, OTHER):
            session.add(Installation(id=installation, account_login=f"org-{installation}"))
            await session.flush()
            team = Team(name=f"org-{installation}", installation_id=installation)
            session.add(team)
            await session.flush()
            for role in ROLES:
                keys[role, installation] = key = f"key-{role}-{installation}"
                session.add(
                    ApiToken(
                        team_id=team.id, name=f"{role}-{installation}", token_hash=token_hash(key), role=role
                    )
                )
    return keys


@pytest.fixture
async def world(served: Served) -> AsyncIterator[World]:
    # serve makes the local admin token on embedded defaults only; here it is on both backends,
    # so its column is checked on both
    assert served.page.deploy is not None
    served.page.deploy.admin_token = ADMIN_TOKEN
    zones = RecordingZones()
    served.page.dns_zones = zones
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served.app), base_url="http://autostack.test"
    )
    world = World(served, client, zones, await _tokens(served.services))
    with dns_server() as (_, address):
        served.page.nameservers = address
        try:
            yield world
        finally:
            await client.aclose()


def api_routes(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route under /api/ the app answers, mounts included."""
    found = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= api_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and (prefix + route.path).startswith("/api/"):
            found |= {(m, prefix + route.path) for m in route.methods or () if m != "HEAD"}
    return found


def _tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        page = b"<h1>hi</h1>"
        info = tarfile.TarInfo("index.html")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
    return buffer.getvalue()


async def send(world: World, case: Row, path: str, names: dict[str, str], key: str | None) -> httpx.Response:
    """The row's request (with a body where it needs one) under this bearer key."""
    headers = {"authorization": key} if key else {}
    body: dict[str, Any] = {}
    if case.method == "POST" and case.route.endswith("/deployments"):
        headers["content-type"] = "application/gzip"
        body["content"] = _tarball()
    elif case.method == "PUT":
        body["json"] = {"value": "x"}
    elif case.method == "POST" and case.route.endswith("/domains"):
        body["json"] = {"hostname": f"new.{names['h']}"}
    # an upload's answer streams until the deploy worker ended the deployment
    async with asyncio.timeout(DEPLOY_SECONDS):
        return await world.client.request(case.method, path, headers=headers, **body)


def _columns(keys: dict[tuple[str, int], str]) -> list[tuple[str, str, int]]:
    """(column name, key, installation it speaks for) in the order of a Row's answers."""
    own = [(f"{role}/own", keys[role, OWN], OWN) for role in ROLES]
    other = [(f"{role}/other", keys[role, OTHER], OTHER) for role in ROLES]
    return [*own, *other, ("admin-token", ADMIN_TOKEN, 0)]


def _expected(case: Row) -> list[int]:
    return [*case.own, *case.other, case.admin_token]


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {part for part in before if before[part] != after[part]}


def _normal(text: str, names: dict[str, str]) -> str:
    return re.sub(rf"\b({names['p']}|{names['d']}|gone|999999)\b", "X", text)


def test_the_table_names_every_api_route_the_app_serves(world):
    served = api_routes(world.app.web.routes)
    tabled = {(case.method, case.route) for case in TABLE}
    assert served - tabled == set(), "routes with no row in TABLE"
    assert tabled - served == set(), "rows for routes the app does not serve"
    # the routes the CLI used before /api/v1 are gone, not left unchecked
    assert not {path for _, path in served if not path.startswith("/api/v1/")}


async def test_every_route_role_and_team(world):
    wrong: list[str] = []
    checked = 0
    for case in TABLE:
        for (column, key, installation), status in zip(_columns(world.keys), _expected(case), strict=True):
            names = await world.fresh_project()
            path = case.path.format(**names)
            before = await world.snapshot()
            answer = await send(world, case, path, names, f"Bearer {key}")
            after = await world.snapshot()
            checked += 1
            where = f"{case.method} {path} as {column}"
            if answer.status_code != status:
                wrong.append(f"{where}: {answer.status_code}, expected {status}: {answer.text[:200]}")
                continue
            changed = _changed(before, after)
            expected_changes = case.changes if status < 300 else frozenset()
            if changed != expected_changes:
                wrong.append(f"{where}: changed {sorted(changed)}, expected {sorted(expected_changes)}")
            failed = [job for job in after["jobs"] if job not in before["jobs"] and not job[2]]
            if failed:
                wrong.append(f"{where}: the deploy worker could not run {failed}")
            if "projects" in changed:
                made = set(after["projects"]) - set(before["projects"])
                if made != {(names["n"], installation or None)}:
                    wrong.append(
                        f"{where}: made {made}, expected {names['n']} in installation {installation}"
                    )
            if case.route in LISTS:
                seen = names["p"] in answer.text
                if seen != (installation != OTHER):
                    wrong.append(f"{where}: the answer {'shows' if seen else 'lacks'} {names['p']}")
            if status == 404 and case.missing is not None:
                # another team's project answers exactly like one that does not exist
                absent = await send(world, case, case.missing.format(**names), names, f"Bearer {key}")
                if (absent.status_code, _normal(absent.text, names)) != (404, _normal(answer.text, names)):
                    wrong.append(f"{where}: {answer.text} but for a missing one {absent.text}")
    assert wrong == []
    assert checked == len(TABLE) * 9 == 216


async def test_without_a_key_or_with_an_unknown_one_every_route_is_401(world):
    names = await world.fresh_project()
    before = await world.snapshot()
    for case in TABLE:
        for key in (None, "Bearer as_not-a-key", ADMIN_TOKEN):
            answer = await send(world, case, case.path.format(**names), names, key)
            expected = 200 if (case.method, case.route) in PUBLIC else 401
            assert answer.status_code == expected, (case.path, key, answer.text)
    assert await world.snapshot() == before
