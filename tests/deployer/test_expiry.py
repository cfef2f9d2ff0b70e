"""Optional TTL for idle previews: which previews expire, and that they go the closed-PR way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from deployer.config import parse_config
from deployer.detect import detect
from deployer.events import EnvironmentDestroyed
from deployer.expiry import Preview, active_previews, expire_idle_previews, expired
from deployer.plan import make_plan
from store.models import Deployment, Environment, Project
from tests.deployer.conftest import EXAMPLES, RecordingSink

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = 3600


def _preview(idle: timedelta, ttl: int | None, busy: bool = False) -> Preview:
    return Preview("shop", "pr-1", NOW - idle, ttl, busy)


@pytest.mark.parametrize(
    ("preview", "gone"),
    [
        (_preview(timedelta(hours=2), HOUR), True),
        (_preview(timedelta(minutes=59), HOUR), False),
        (_preview(timedelta(hours=1), HOUR), False),  # exactly the TTL: not yet past it
        (_preview(timedelta(days=30), None), False),  # no previews.ttl: never expires
        (_preview(timedelta(hours=2), HOUR, busy=True), False),  # a deployment is under way
    ],
    ids=["idle", "fresh", "at-ttl", "no-ttl", "busy"],
)
def test_expired(preview, gone):
    assert expired([preview], NOW) == ([preview] if gone else [])


class Destroyed:
    """A target that only records what it was asked to destroy."""

    def __init__(self) -> None:
        self.destroyed: list[tuple[str, str]] = []

    async def destroy(self, project: str, environment: str) -> None:
        self.destroyed.append((project, environment))


async def _project(sessions, name: str, ttl: str | None, previews: dict[str, timedelta]) -> int:
    """A project whose production runs a plan with `previews.ttl: ttl`, and previews idle so long."""
    config = f"previews: {{ttl: {ttl}}}\n" if ttl else ""
    plan = make_plan(parse_config(config), detect(EXAMPLES / "flask"))
    async with sessions.begin() as session:
        project = Project(name=name)
        session.add(project)
        await session.flush()
        production = Environment(project_id=project.id, name="production", kind="production")
        session.add(production)
        await session.flush()
        deployment = Deployment(
            project_id=project.id,
            environment_id=production.id,
            environment="production",
            trigger="push",
            state="ready",
            config=plan.snapshot(),
        )
        session.add(deployment)
        await session.flush()
        production.current_deployment_id = deployment.id
        for environment, idle in previews.items():
            session.add(
                Environment(
                    project_id=project.id, name=environment, kind="preview", last_activity_at=NOW - idle
                )
            )
        return project.id


async def test_idle_preview_past_ttl_is_destroyed_and_a_fresh_one_kept(sessions):
    shop = await _project(sessions, "shop", "1h", {"pr-1": timedelta(hours=3), "pr-2": timedelta(minutes=5)})
    await _project(sessions, "blog", None, {"pr-1": timedelta(days=90)})
    assert {(p.project, p.environment, p.ttl) for p in await active_previews(sessions)} == {
        ("shop", "pr-1", HOUR),
        ("shop", "pr-2", HOUR),
        ("blog", "pr-1", None),
    }
    target, sink = Destroyed(), RecordingSink()

    gone = await expire_idle_previews(sessions, target, sink, now=NOW)

    assert [(p.project, p.environment) for p in gone] == [("shop", "pr-1")]
    assert target.destroyed == [("shop", "pr-1")]
    assert EnvironmentDestroyed(shop, "pr-1") in sink.events  # its GitHub Deployments go inactive
    async with sessions() as session:
        states = (
            await session.execute(select(Project.name, Environment.name, Environment.state).join(Project))
        ).all()
    assert sorted(states) == [
        ("blog", "pr-1", "active"),
        ("blog", "production", "active"),
        ("shop", "pr-1", "destroyed"),
        ("shop", "pr-2", "active"),
        ("shop", "production", "active"),
    ]
