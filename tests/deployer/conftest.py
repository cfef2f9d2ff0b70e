"""Shared fixtures for deployer tests: a SQLite store, a started local target, a recording sink."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deploy_service import DeployService
from bot.site import site_app
from bot.web.context import OAuthClient, WebState
from deployer.events import DeployEvent, Finished, LogLine, PhaseStarted
from deployer.operations import queue_deployment
from deployer.pipeline import AppEnv, EnvProvider, no_env, run_deployment
from deployer.targets.local.router import hostname_for
from deployer.targets.local.target import LocalTarget
from store.encryption import KeyRing
from store.models import Deployment
from tests.servers import free_port
from tests.web.harness import settings_for
from tests.wired import Served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
API_TOKEN = "test-admin-token"  # the local admin token of the `server` fixture


@dataclass
class RecordingSink:
    """Keeps every event, for assertions."""

    events: list[DeployEvent] = field(default_factory=list)

    async def emit(self, event: DeployEvent) -> None:
        self.events.append(event)

    def phases(self, deployment_id: int) -> list[str]:
        return [
            e.phase for e in self.events if isinstance(e, PhaseStarted) and e.deployment_id == deployment_id
        ]

    def log(self, deployment_id: int) -> str:
        return "\n".join(
            e.text for e in self.events if isinstance(e, LogLine) and e.deployment_id == deployment_id
        )

    def finished(self, deployment_id: int) -> Finished:
        return next(e for e in self.events if isinstance(e, Finished) and e.deployment_id == deployment_id)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dependency cache for the whole session, so each lockfile installs once."""
    return tmp_path_factory.mktemp("dependency-cache")


@pytest.fixture
async def target(tmp_path: Path, cache_dir: Path) -> AsyncIterator[LocalTarget]:
    local = LocalTarget(tmp_path / "data", cache_dir=cache_dir, router_port=0)
    await local.start_router()
    yield local
    await local.close()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@dataclass
class Deployer:
    """Deploys folders the way the CLI does, and fetches pages through the router."""

    sessions: async_sessionmaker[AsyncSession]
    target: LocalTarget
    sink: RecordingSink
    work_dir: Path
    env_for: EnvProvider = no_env

    async def queue(self, folder: Path, project: str = "demo", env: str = "production") -> int:
        return await queue_deployment(self.sessions, project, env, trigger="cli", source=f"dir:{folder}")

    async def run(self, deployment_id: int) -> Deployment:
        """Run the deployment; what the run reports (the deploy job's result) is what it stored."""
        state = await run_deployment(
            self.sessions, deployment_id, self.sink, self.target, work_dir=self.work_dir, env_for=self.env_for
        )
        row = await self.row(deployment_id)
        assert state is None or state == row.state, (state, row.state)
        return row

    async def deploy(self, folder: Path, project: str = "demo", env: str = "production") -> Deployment:
        return await self.run(await self.queue(folder, project, env))

    async def row(self, deployment_id: int) -> Deployment:
        async with self.sessions() as session:
            row = await session.get(Deployment, deployment_id)
            assert row is not None
            return row

    async def get(self, project: str = "demo", env: str = "production", path: str = "/") -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(
                f"http://127.0.0.1:{self.target.router_port}{path}",
                headers={"host": hostname_for(project, env)},
            )


@pytest.fixture
def deployer(sessions, target, sink, tmp_path: Path) -> Deployer:
    return Deployer(sessions, target, sink, tmp_path / "work")


@pytest.fixture
def app_copy(tmp_path: Path):
    """Copy an example app into tmp so a test can change it."""

    def copy(name: str, dest: str | None = None) -> Path:
        folder = tmp_path / "apps" / (dest or name)
        shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns("node_modules"))
        return folder

    return copy


@dataclass
class Server:
    """What `serve` runs (tests/wired.py), listening on a loopback port, and the CLI's token."""

    url: str
    token: str
    served: Served

    async def get(self, project: str, environment: str = "production") -> httpx.Response:
        """The environment's page through the router."""
        return await self.served.visit(environment, project=project)


@pytest.fixture
async def server(fresh_served: Served, monkeypatch, tmp_path) -> AsyncIterator[Server]:
    """`serve` with nothing deployed yet; the CLI holds its local admin token (which serve makes
    on embedded defaults only: on PostgreSQL the same is set here, so both backends run)."""
    deploy = fresh_served.page.deploy
    assert deploy is not None
    token = deploy.admin_token or API_TOKEN
    deploy.admin_token = token
    monkeypatch.setenv("AUTOSTACK_TOKEN", token)
    # never the user's own saved login
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AUTOSTACK_URL", raising=False)
    async with fresh_served.listening() as url:
        yield Server(url, token, fresh_served)


@pytest.fixture
async def target_api(deployer, tmp_path, monkeypatch):
    """The page's API (with the local admin token) over the `deployer`'s target, for what it
    reads (logs, app states); a deploy action through it fails the test: those run on `server`."""

    async def enqueue(deployment_id: int) -> None:
        raise AssertionError(f"deployment {deployment_id} queued on target_api: use `server`")

    settings = settings_for(tmp_path / "data")
    deploy = DeployService(
        deployer.sessions, tmp_path / "data", enqueue, deployer.target, deployer.sink, admin_token=API_TOKEN
    )
    state = WebState(
        settings, deployer.sessions, KeyRing(settings.secret_keys), OAuthClient(None), deploy=deploy
    )
    port = free_port()
    config = uvicorn.Config(
        site_app(state), host="127.0.0.1", port=port, lifespan="off", ws="none", log_level="warning"
    )
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.02)
    monkeypatch.setenv("AUTOSTACK_TOKEN", API_TOKEN)
    # never the user's own saved login
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AUTOSTACK_URL", raising=False)
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    await task


__all__ = ["API_TOKEN", "EXAMPLES", "AppEnv", "Deployer", "RecordingSink"]
