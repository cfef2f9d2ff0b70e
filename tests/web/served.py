"""The page as `serve` wires it (security headers, routes, store), seeded like harness.seed,
with a signed-in client per role: for page tests that must see what a user would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deploy_service import DeployService
from bot.serve import serve_app
from bot.services import Services
from bot.web.runtime import build_state
from store.models import Deployment
from tests.web import harness

ADMIN_TOKEN = "served-admin-token"


@dataclass
class Served:
    """The served page, its store, the seed, the fake target and what was queued."""

    sessions: async_sessionmaker[AsyncSession]
    seed: harness.Seed
    target: harness.FakeTarget
    as_role: Callable[[str], httpx.AsyncClient]
    enqueued: list[int] = field(default_factory=list)


@pytest.fixture
async def served(backend, tmp_path: Path) -> AsyncIterator[Served]:
    services = Services.build(backend.settings(tmp_path / "data"), backend.redis_url)
    enqueued: list[int] = []

    async def enqueue(deployment_id: int) -> None:
        # the worker, done at once: an upload's progress stream ends
        enqueued.append(deployment_id)
        async with services.sessions.begin() as session:
            (await session.get(Deployment, deployment_id)).state = "cancelled"

    target = harness.FakeTarget()
    deploy = DeployService(
        services.sessions, tmp_path / "data", enqueue, target, harness.FakeSink(), admin_token=ADMIN_TOKEN
    )  # type: ignore[arg-type]
    app = serve_app(services, build_state(services, deploy, None))
    seed = await harness.seed(services.sessions)
    opened: list[httpx.AsyncClient] = []

    def as_role(role: str) -> httpx.AsyncClient:
        cookie = harness.cookie_for(services.settings, seed.users[role], seed.team_id)
        made = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://autostack.test",
            cookies={"autostack_session": cookie},
        )
        opened.append(made)
        return made

    try:
        yield Served(services.sessions, seed, target, as_role, enqueued)
    finally:
        for made in opened:
            await made.aclose()
        await services.close()
