"""AutoStack as `serve` wires it, in this process: the page and the JSON API over the deploy
service, the arq queue on Redis and the deploy worker, the local target and its router running
real apps (tests/runtime_app.py). A pytest plugin of conftest.py: the `served` fixture, on both
backends.

Nothing here is a stand-in: a page's Redeploy reaches the worker only through the job name
bot/serve.py enqueues and bot/worker/deploy_jobs.py registers, and what a test asserts is what a
user sees (the page, the API's answers, the app through the router).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tarfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import AutoStackApp
from bot.deploy_wiring import deploy_runtime, deploy_service
from bot.serve import serve_app
from bot.services import Services
from bot.settings import Settings
from bot.web.context import WebState
from bot.web.runtime import build_state, running
from bot.worker.deploy_jobs import DeployRuntime
from bot.worker.loops import supervise
from bot.worker.queue import DEPLOY_QUEUE
from bot.worker.workers import make_deploy_worker
from deployer.state import TERMINAL
from deployer.targets.local.router import hostname_for
from deployer.targets.local.target import LocalTarget
from store.models import ApiToken, Deployment
from store.teams import token_hash
from tests.runtime_app import FILES
from tests.servers import free_port
from tests.web import harness

CSRF = {"csrf": "test-csrf"}
# a deployment of tests/runtime_app.py takes a second or two; one the worker never took waits this
DEPLOY_SECONDS = 45


def tarball(files: Mapping[str, str]) -> bytes:
    """A folder as `autostack deploy` uploads it: a gzipped tarball of `files`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def app_files(page: str = "hello", **extra: str) -> dict[str, str]:
    """tests/runtime_app.py, answering `page` on GET / (what a test tells builds apart by)."""
    return _answering(repr(page.encode()), extra)


def app_files_showing(variable: str, **extra: str) -> dict[str, str]:
    """tests/runtime_app.py, answering GET / with the environment variable `variable` it runs with."""
    return _answering(f"os.environ.get({variable!r}, 'unset').encode()", extra)


def _answering(expression: str, extra: Mapping[str, str]) -> dict[str, str]:
    assert 'b"hello"' in FILES["app.py"]
    return {**FILES, "app.py": FILES["app.py"].replace('b"hello"', expression), **extra}


@dataclass
class Served:
    """The served page and API, its store, the seed (harness.seed) and the running deploy parts."""

    services: Services
    runtime: DeployRuntime
    page: WebState
    app: AutoStackApp
    seed: harness.Seed | None
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    _keys: dict[str, str] = field(default_factory=dict)

    def as_role(self, role: str) -> httpx.AsyncClient:
        """An ASGI client signed in as the seeded member with this role."""
        assert self.seed is not None, "nothing was seeded: no member to sign in as"
        cookie = harness.cookie_for(self.services.settings, self.seed.users[role], self.seed.team_id)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://autostack.test",
            cookies={"autostack_session": cookie},
        )
        self.clients.append(client)
        return client

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.services.sessions

    @property
    def target(self) -> LocalTarget:
        assert isinstance(self.runtime.target, LocalTarget)
        return self.runtime.target

    async def key(self, role: str) -> str:
        """A team API key of the seeded team with this role (named `ci-<role>`)."""
        assert self.seed is not None, "nothing was seeded: no team to make a key for"
        if role not in self._keys:
            key = f"key-for-{role}"
            async with self.sessions.begin() as session:
                session.add(
                    ApiToken(
                        team_id=self.seed.team_id, name=f"ci-{role}", token_hash=token_hash(key), role=role
                    )
                )
            self._keys[role] = key
        return self._keys[role]

    async def bearer(self, role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.key(role)}"}

    async def deploy(
        self,
        environment: str,
        files: Mapping[str, str] | None = None,
        project: str = "shop",
        role: str = "admin",
    ) -> list[dict[str, Any]]:
        """Upload a folder as `autostack deploy` does (app_files() unless given) and read its
        progress to the end: the NDJSON lines, the last one `finished`."""
        client = self.as_role(role)
        headers = {**await self.bearer(role), "content-type": "application/gzip"}
        # the answer streams until the deployment ends: only the worker ends it
        async with asyncio.timeout(DEPLOY_SECONDS):
            answer = await client.post(
                f"/api/v1/projects/{project}/environments/{environment}/deployments",
                content=tarball(files if files is not None else app_files()),
                headers=headers,
            )
        assert answer.status_code == 200, answer.text
        return [orjson.loads(line) for line in answer.text.splitlines()]

    async def deployed(self, environment: str, page: str = "hello", project: str = "shop") -> int:
        """Deploy app_files(page) and return the deployment's id, failing unless it is ready."""
        lines = await self.deploy(environment, app_files(page), project)
        assert lines[-1]["type"] == "finished" and lines[-1]["state"] == "ready", lines
        return int(lines[0]["id"])

    async def finished(self, deployment_id: int, within: float = DEPLOY_SECONDS) -> Deployment:
        """The deployment once it ended (the worker ran it), failing after `within` seconds."""
        async with asyncio.timeout(within):
            while True:
                async with self.sessions() as session:
                    row = await session.get(Deployment, deployment_id)
                if row is not None and row.state in TERMINAL:
                    return row
                await asyncio.sleep(0.1)

    async def visit(self, environment: str, path: str = "/", project: str = "shop") -> httpx.Response:
        """GET an environment's page through the router, as its visitors do."""
        return await self.visit_host(hostname_for(project, environment), path)

    async def visit_host(self, host: str, path: str = "/") -> httpx.Response:
        """GET `path` through the router by Host name (a custom domain's, say)."""
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(
                f"http://127.0.0.1:{self.target.router_port}{path}", headers={"host": host}
            )

    async def started_building(self, phase: str = "build", within: float = 30) -> int:
        """The deployment the worker is building now, once it is in `phase`."""
        async with asyncio.timeout(within):
            while True:
                async with self.sessions() as session:
                    rows = (
                        await session.scalars(select(Deployment).where(Deployment.state == "building"))
                    ).all()
                for row in rows:
                    if phase in (row.phases or {}):
                        return row.id
                await asyncio.sleep(0.1)

    async def idle(self, within: float = DEPLOY_SECONDS) -> None:
        """Wait until the deploy queue is empty: every job on it ran (arq keeps a job there until
        it finished, retries deferred to later included)."""
        redis = (await self.services.queue()).redis
        async with asyncio.timeout(within):
            while await redis.zcard(DEPLOY_QUEUE):
                await asyncio.sleep(0.05)

    async def jobs(self) -> list[tuple[str, tuple[Any, ...], bool]]:
        """(function, arguments, finished without an error) of every job the deploy worker ran,
        its crons left out."""
        results = await (await self.services.queue()).redis.all_job_results()
        return sorted(
            (r.function, r.args, r.success)
            for r in results
            if r.queue_name == DEPLOY_QUEUE and not r.function.startswith("cron:")
        )

    async def jobs_done(self, function: str, count: int, within: float = 10) -> list[tuple[Any, ...]]:
        """The arguments of the `function` jobs a worker finished without an error, once there
        are `count` of them (failing after `within` seconds)."""
        redis = (await self.services.queue()).redis
        done: list[tuple[Any, ...]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while len(done) < count:
                    await asyncio.sleep(0.1)
                    results = await redis.all_job_results()
                    done = [r.args for r in results if r.function == function and r.success]
        return done

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[str]:
        """The app on a loopback port, for clients in other processes (the CLI): its base URL."""
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, lifespan="off", ws="none", log_config=None)
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task


async def _restored() -> None:
    """Wait for serve's start-up restore (bot.deploy_wiring.deploy_runtime) to end, so the seed rows
    written after it are not restored midway as if they were live builds."""
    for task in asyncio.all_tasks():
        if task.get_name() == "restore-environments":
            await task


@contextlib.asynccontextmanager
async def serving(settings: Settings, redis_url: str, *, seeded: bool = True) -> AsyncIterator[Served]:
    """What `serve` runs, started as it starts it (minus the HTTP server), then seeded
    (harness.seed) unless told not to."""
    services = Services.build(settings, redis_url)
    try:
        async with deploy_runtime(services) as runtime:
            await _restored()
            page = build_state(services, deploy_service(services, runtime), runtime.router)
            seed = await harness.seed(services.sessions) if seeded else None
            served = Served(services, runtime, page, serve_app(services, page), seed)
            worker = asyncio.create_task(
                supervise(
                    "deploy-worker",
                    # serve's worker, polling the queue more often than its 0.5 s when idle
                    lambda: make_deploy_worker(services, runtime, handle_signals=False, poll_delay=0.05),
                    services.health,
                )
            )
            try:
                async with running(page, runtime.router):
                    yield served
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
                for client in served.clients:
                    await client.aclose()
    finally:
        await services.close()


@pytest.fixture
async def served(backend, tmp_path: Path) -> AsyncIterator[Served]:
    """What `serve` runs on this test's backend: ASGI clients signed in per role (CSRF token
    `test-csrf`), the deploy worker on the Redis queue, the local target and its router."""
    settings = backend.settings(tmp_path / "data", router_port=free_port())
    async with serving(settings, backend.redis_url) as started:
        yield started


@pytest.fixture
async def fresh_served(backend, tmp_path: Path) -> AsyncIterator[Served]:
    """`served` with nothing stored yet, as `serve` is the first time it starts."""
    settings = backend.settings(tmp_path / "data", router_port=free_port())
    async with serving(settings, backend.redis_url, seeded=False) as started:
        yield started
