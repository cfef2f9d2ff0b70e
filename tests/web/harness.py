"""A web page over a fresh SQLite store, signed-in clients for any role, and seed data: for
tests of what pages show and refuse. Deploy actions run against what `serve` runs instead
(tests/wired.py); here one fails the test."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deploy_service import DeployService
from bot.settings import Settings
from bot.site import site_app
from bot.web.auth import session_key
from bot.web.context import OAuthClient, WebState
from deployer.runtime_logs import RuntimeLine
from deployer.targets.base import CertificateState
from store.encryption import KeyRing
from store.models import Deployment, DeploymentLog, Environment, Member, Project, Team, utcnow

NO_ACTIONS = "page tests on the harness run no deploy action; use the `served` fixture (tests/wired.py)"


@dataclass
class FakeTarget:
    """What the pages read from a target: certificates from `certs` (a host it has none for is
    "none"; `certs_error` is raised instead when set) and an app's output from `runtime`. It has
    no deploy methods: an action that reaches it fails the test."""

    certs: dict[str, CertificateState] = field(default_factory=dict)
    certs_error: Exception | None = None
    runtime: dict[tuple[str, str], list[RuntimeLine]] = field(default_factory=dict)

    async def runtime_log(self, project: str, environment: str, query: Any) -> AsyncIterator[RuntimeLine]:
        """The lines put in `runtime` for the environment, then the end (even when following)."""
        for line in self.runtime.get((project, environment), []):
            yield line

    async def certificates(self, project: str, environment: str, hostnames: Sequence[str]):
        if self.certs_error is not None:
            raise self.certs_error
        return {host: self.certs.get(host, CertificateState("none")) for host in hostnames}


class _NoEvents:
    async def emit(self, event: Any) -> None:
        raise AssertionError(f"{NO_ACTIONS} (it reported {event})")


async def _no_queue(deployment_id: int) -> None:
    raise AssertionError(f"{NO_ACTIONS} (it queued deployment {deployment_id})")


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": f"sqlite:///{data_dir / 'autostack.db'}",
        "redis_url": None,
        "webhook_secrets": ("s",),
        "secret_keys": ("web-test-key",),
    }
    values.update(overrides)
    return Settings(**values)


def web_state(sessions: async_sessionmaker[AsyncSession], data_dir: Path, **overrides: Any) -> WebState:
    settings = settings_for(data_dir, **overrides)
    deploy = DeployService(sessions, data_dir, _no_queue, FakeTarget(), _NoEvents())  # type: ignore[arg-type]
    state = WebState(
        settings,
        sessions,
        KeyRing(settings.secret_keys),
        OAuthClient(settings.client_id, settings.client_secret),
        deploy=deploy,
    )
    return state


def cookie_for(settings: Settings, user_id: int, team_id: int, csrf: str = "test-csrf") -> str:
    """A session cookie as SessionMiddleware signs it."""
    data = b64encode(json.dumps({"uid": user_id, "team": team_id, "csrf": csrf}).encode())
    return itsdangerous.TimestampSigner(session_key(settings)).sign(data).decode()


def client(state: WebState, cookie: str | None = None) -> httpx.AsyncClient:
    cookies = {"autostack_session": cookie} if cookie else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site_app(state)), base_url="http://testserver", cookies=cookies
    )


@dataclass
class Seed:
    team_id: int
    project_id: int
    production_id: int
    preview_id: int
    deployment_id: int
    preview_deployment_id: int
    users: dict[str, int]


async def seed(sessions: async_sessionmaker[AsyncSession], name: str = "shop") -> Seed:
    """A local team with one member per role, a project with production and pr-1 live."""
    async with sessions.begin() as session:
        team = Team(name="local")
        project = Project(name=name, full_name=f"octo-org/{name}")
        session.add_all([team, project])
        await session.flush()
        users = {}
        for number, role in enumerate(("viewer", "developer", "admin", "owner"), start=1):
            session.add(
                Member(team_id=team.id, github_user_id=number, github_login=f"{role}-user", role=role)
            )
            users[role] = number
        envs = {}
        deployments = {}
        for env_name, kind in (("production", "production"), ("pr-1", "preview")):
            env = Environment(
                project_id=project.id, name=env_name, kind=kind, url=f"http://{env_name}.{name}.localhost"
            )
            session.add(env)
            await session.flush()
            now = utcnow()
            done = Deployment(
                project_id=project.id,
                environment_id=env.id,
                environment=env_name,
                trigger="push",
                state="ready",
                commit_sha="a" * 40,
                commit_message="first",
                artifact="art",
                created_at=now - timedelta(minutes=5),
                started_at=now - timedelta(minutes=5),
                ready_at=now - timedelta(minutes=4),
                finished_at=now - timedelta(minutes=4),
                build_seconds=30.0,
                phases={"build": {}},
                commit_time=now - timedelta(hours=1),
            )
            session.add(done)
            await session.flush()
            session.add(DeploymentLog(deployment_id=done.id, seq=1, line=f"built {env_name}"))
            env.current_deployment_id = done.id
            envs[env_name], deployments[env_name] = env.id, done.id
    return Seed(
        team.id,
        project.id,
        envs["production"],
        envs["pr-1"],
        deployments["production"],
        deployments["pr-1"],
        users,
    )
