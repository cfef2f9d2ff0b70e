"""End-to-end harness: AutoStack as `serve` wires it, with GitHub played by the stand-in.

Signed real payloads go into the webhook intake; the delivery worker and the deploy worker
run in burst mode until their queues are empty; the local target builds and starts the app
and its router serves it. Tests then look at what a user sees: pages through the router,
the calls GitHub received (check runs, statuses, Deployments, comments, reactions), rows.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.constants import default_queue_name
from sqlalchemy import select

from bot.deploy_wiring import deploy_service, reporter_hub
from bot.reporter.comment import MARKER
from bot.worker.deploy_jobs import DeployRuntime
from bot.worker.queue import DEPLOY_QUEUE, ArqQueue
from bot.worker.workers import make_deploy_worker
from deployer.live_state import LiveStates
from deployer.targets.local.router import hostname_for
from deployer.targets.local.target import LocalTarget
from store.activity import Actor
from store.models import Delivery, Deployment, DeploymentLog, Environment, Project
from store.teams import create_api_key
from store.upserts import get_or_create_team
from tests.conftest import Backend, signed_headers
from tests.github_standin.comments import add_comment
from tests.github_standin.fixtures import APP_ID, AppKeys
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State
from tests.handlers.doubles import REPO, pr_comment, validated
from tests.intake_harness import Harness, running

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPS = Path(__file__).parent / "apps"
PROJECT = "hello-world"  # the project AutoStack makes for Codertocat/Hello-World
BASE_URL = "http://autostack.test"
BOT_LOGIN = "autostack[bot]"  # the login the stand-in gives the App's own comments


def page(sha: str) -> str:
    """The index.html of the commit `sha`: examples/static, saying which commit it is."""
    html = (EXAMPLES / "static" / "index.html").read_text()
    return html.replace("</h1>", f" at {sha[:7]}</h1>")


def tarball(sha: str, files: dict[str, str]) -> bytes:
    """A tar.gz as GitHub's tarball endpoint gives it: one top folder `owner-repo-sha7/`."""
    top = f"{REPO.replace('/', '-')}-{sha[:7]}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class E2E:
    """One AutoStack (intake, both workers, local target) and the GitHub stand-in."""

    intake: Harness
    runtime: DeployRuntime
    github: State
    target: LocalTarget
    posted: set[int] = field(default_factory=set)  # comments the test wrote

    @property
    def services(self):
        return self.intake.services

    # -- the repository on GitHub -------------------------------------------------------

    def commit(self, sha: str, extra: dict[str, str] | None = None) -> str:
        """Serve examples/static at `sha` (index.html names the commit); returns the page."""
        html = page(sha)
        self.github.add_tarball(REPO, sha, tarball(sha, {"index.html": html, **(extra or {})}))
        return html

    def grant(self, login: str, role: str) -> None:
        """Give `login` a role on the repository (read, triage, write, maintain, admin)."""
        self.github.permissions[(REPO, login)] = role

    # -- deliveries ----------------------------------------------------------------------

    async def post(self, event: str, body: dict[str, Any], delivery_id: str | None = None) -> httpx.Response:
        """Sign and post one delivery to the intake, as GitHub does."""
        raw = json.dumps(body).encode()
        return await self.intake.post(raw, signed_headers(raw, event, delivery_id))

    async def deliver(self, event: str, body: dict[str, Any], delivery_id: str | None = None) -> str:
        """Post a delivery, then run both workers until everything it caused is done."""
        response = await self.post(event, body, delivery_id)
        assert response.status_code == 202, response.text
        delivered = response.json()["delivery"]
        await self.intake.wait_for_job(delivered)
        await self.settle()
        row = await self.delivery(delivered)
        assert row.state == "done", (row.state, row.error)
        return delivered

    async def settle(self) -> None:
        """Run the delivery worker, then the deploy worker, in burst mode until both are idle
        and every report of theirs went out to GitHub."""
        queue = await self.services.queue()
        for _ in range(10):
            await self.intake.run_worker_until_idle()
            await self.run_deploy_worker()
            # reports go out after the jobs that made them, and a rate-limited one queues a job
            await self.runtime.hub.drained()
            if not await _pending(queue):
                return
        raise AssertionError("the queues did not drain")

    async def run_deploy_worker(self) -> None:
        """Run the deploy worker in burst mode until its queue is empty (reports may still be
        on their way to GitHub)."""
        worker = make_deploy_worker(
            self.services, self.runtime, burst=True, handle_signals=False, poll_delay=0.05
        )
        try:
            await worker.main()
        finally:
            await worker.close()

    async def delivery(self, delivery_id: str) -> Delivery:
        async with self.services.sessions() as session:
            row = await session.get(Delivery, delivery_id)
        assert row is not None
        return row

    async def comment(
        self,
        text: str,
        login: str,
        *,
        user_type: str = "User",
        number: int = 2,
        created_at: str = "2024-01-01T11:00:00Z",
    ) -> int:
        """`login` comments `text` on the pull request: on GitHub, then as a delivery.

        Returns the comment's id (reactions land on it)."""
        comment_id = add_comment(self.github, REPO, number, text, login=login, user_type=user_type)
        body = pr_comment(text, login=login, user_type=user_type, number=number, created_at=created_at)
        body["comment"]["id"] = comment_id
        self.posted.add(comment_id)
        await self.deliver("issue_comment", validated("issue_comment", "created", body))
        return comment_id

    def replies(self, number: int = 2) -> list[str]:
        """What the App answered on the pull request, besides its sticky comment."""
        return [
            c["body"]
            for c in self.github.comments_on(REPO, number)
            if c["user"]["login"] == BOT_LOGIN
            and not c["body"].startswith(MARKER)
            and c["id"] not in self.posted
        ]

    # -- what users see ------------------------------------------------------------------

    async def get(self, environment: str, path: str = "/") -> httpx.Response:
        """GET a page of an environment through the router, by its Host name."""
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(
                f"http://127.0.0.1:{self.target.router_port}{path}",
                headers={"host": hostname_for(PROJECT, environment)},
            )

    def url(self, environment: str) -> str:
        return self.target.url_for(PROJECT, environment)

    async def deployments(self, environment: str | None = None) -> list[Deployment]:
        async with self.services.sessions() as session:
            query = select(Deployment).order_by(Deployment.id)
            if environment is not None:
                query = query.where(Deployment.environment == environment)
            return list((await session.scalars(query)).all())

    async def environment(self, name: str) -> Environment:
        async with self.services.sessions() as session:
            row = await session.scalar(select(Environment).where(Environment.name == name))
        assert row is not None, f"no environment {name}"
        return row

    async def project(self) -> Project:
        async with self.services.sessions() as session:
            row = await session.scalar(select(Project).where(Project.full_name == REPO))
        assert row is not None
        return row

    async def log(self, deployment_id: int) -> str:
        async with self.services.sessions() as session:
            lines = await session.scalars(
                select(DeploymentLog.line)
                .where(DeploymentLog.deployment_id == deployment_id)
                .order_by(DeploymentLog.seq)
            )
            return "\n".join(lines)

    async def api_headers(self) -> dict[str, str]:
        """What the JSON API takes for this repository's project: the local admin token on the
        embedded defaults (`serve` writes it there only), else an admin API key of its team."""
        token = deploy_service(self.services, self.runtime).admin_token
        if token is None:
            project = await self.project()
            async with self.services.sessions.begin() as session:
                team = await get_or_create_team(session, project.installation_id, "e2e")
            token = await create_api_key(self.services.sessions, Actor("e2e", team.id), "e2e", "admin")
        return {"authorization": f"Bearer {token}"}

    def check_runs(self, name: str) -> list[dict[str, Any]]:
        return [run for run in self.github.check_runs.values() if run["name"] == name]

    def github_deployments(self, environment: str) -> list[dict[str, Any]]:
        return [d for d in self.github.deployments.values() if d["environment"] == environment]

    def deployment_states(self, github_deployment: dict[str, Any]) -> list[str]:
        return [s["state"] for s in self.github.deployment_statuses.get(github_deployment["id"], [])]

    def reactions_on(self, comment_id: int) -> list[str]:
        return [r["content"] for r in self.github.reactions if r["_comment_id"] == comment_id]


async def _pending(queue: ArqQueue) -> int:
    redis = queue.redis
    return int(await redis.zcard(DEPLOY_QUEUE)) + int(await redis.zcard(default_queue_name))


@asynccontextmanager
async def e2e_running(
    backend: Backend,
    data_dir: Path,
    cache_dir: Path,
    server: StandInServer,
    keys: AppKeys,
) -> AsyncIterator[E2E]:
    """AutoStack wired like `serve` (intake, relay, LocalTarget + router, the reporter hub)."""
    settings = backend.settings(
        data_dir,
        app_id=APP_ID,
        private_key=keys.private_pem,
        github_api_url=server.url,
        public_url=BASE_URL,
        router_port=0,
    )
    target = LocalTarget(data_dir, cache_dir=cache_dir, router_port=0)
    await target.start_router()
    try:
        async with running(settings) as intake:
            services = intake.services
            hub = reporter_hub(services)
            # as serve wires it: a live app's state changes go through the hub to GitHub
            target.on_app_state = LiveStates(services.sessions, hub).changed
            runtime = DeployRuntime(target=target, work_dir=data_dir / "work", hub=hub)
            try:
                yield E2E(intake, runtime, server.state, target)
            finally:
                await hub.close()
    finally:
        await target.close()


@pytest.fixture(scope="session")
def e2e_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dependency cache for every end-to-end test."""
    return tmp_path_factory.mktemp("e2e-dependency-cache")


@pytest.fixture
async def e2e(
    backend: Backend,
    tmp_path: Path,
    e2e_cache_dir: Path,
    github_standin: State,
    github_standin_server: StandInServer,
    github_app_keys: AppKeys,
) -> AsyncIterator[E2E]:
    """A running AutoStack talking to the GitHub stand-in (reset for this test), on each backend."""
    async with e2e_running(
        backend, tmp_path / "data", e2e_cache_dir, github_standin_server, github_app_keys
    ) as running_e2e:
        yield running_e2e
