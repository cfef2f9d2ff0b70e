"""Fixtures for handler tests: a migrated store, a recording queue and a GitHub double."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import default_router
from handlers.context import HandlerSettings
from handlers.router import DispatchResult, dispatch
from store.models import Deployment, Environment
from tests.handlers.doubles import FakeGitHub, RecordingJobs, context
from tests.handlers.e2e_harness import e2e, e2e_cache_dir  # noqa: F401 (fixtures for test_e2e_*)


class Harness:
    """Delivers payloads to the real router with doubles around it, and reads the store back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.jobs = RecordingJobs()
        self.github = FakeGitHub()
        self.settings = HandlerSettings()
        self._count = 0

    async def deliver(
        self, event: str, body: dict[str, Any], delivery_id: str | None = None
    ) -> DispatchResult:
        self._count += 1
        ctx = context(
            self.sessions,
            event,
            body,
            jobs=self.jobs,
            github=self.github,
            delivery_id=delivery_id or f"d-{self._count}",
            settings=self.settings,
        )
        result = await dispatch(default_router(), ctx)
        assert not result.permanent and not result.temporary, result
        return result

    async def deployments(self) -> list[Deployment]:
        async with self.sessions() as session:
            return list((await session.scalars(select(Deployment).order_by(Deployment.id))).all())

    async def environment(self, name: str) -> Environment | None:
        async with self.sessions() as session:
            return await session.scalar(select(Environment).where(Environment.name == name))

    async def mark_ready(self, deployment_id: int, artifact: str = "build-1") -> None:
        """What a finished pipeline leaves behind, without running one."""
        async with self.sessions.begin() as session:
            row = await session.get(Deployment, deployment_id)
            assert row is not None
            env = await session.get(Environment, row.environment_id)
            assert env is not None
            row.state, row.artifact, row.ready_at = "ready", artifact, row.created_at
            env.current_deployment_id, env.url = row.id, f"http://{env.name}.test"


@pytest.fixture
def harness(sessions: async_sessionmaker[AsyncSession]) -> Harness:
    return Harness(sessions)
