"""The reconciler removes environments the database no longer has, and nothing else."""

from __future__ import annotations

from deployer.stops import IN_PROCESS
from deployer.targets.kubernetes.reconcile import Reclaimed, reconcile
from deployer.targets.kubernetes.render import namespace_for
from store.models import Environment, Project
from tests.kubernetes.cluster.conftest import image
from tests.kubernetes.conftest import STYLE


async def test_reconciler_removes_an_orphaned_preview_only(sessions, target, deployer, registry, project):
    async with sessions.begin() as session:
        row = Project(name=project)
        session.add(row)
        await session.flush()
        session.add_all(
            [
                Environment(project_id=row.id, name="production", kind="production"),
                Environment(project_id=row.id, name="pr-4", kind="preview"),
                Environment(project_id=row.id, name="pr-3", kind="preview", state="destroyed"),
            ]
        )
    for n, environment in enumerate(("production", "pr-3", "pr-4"), start=1):
        await deployer.deploy(project, environment, n, image(registry, project, n))

    reclaimed = await reconcile(sessions, target)

    assert Reclaimed(project, "pr-3") in reclaimed
    assert all(r.project != project or r.environment == "pr-3" for r in reclaimed)
    namespace = namespace_for(project, STYLE)
    assert target.cluster.names(namespace, {"autostack.dev/environment": "pr-3"}) == set()
    for kept in ("production", "pr-4"):
        assert ("Deployment", kept) in target.cluster.names(namespace, {"autostack.dev/environment": kept})


async def test_reconciler_job_records_the_orphan_and_retires_its_github_deployments(
    sessions, target, deployer, registry, project
):
    from types import SimpleNamespace

    from sqlalchemy import select

    from bot.worker.crons import reconcile_cluster
    from deployer.events import EnvironmentDestroyed
    from store.models import AuditEvent

    async with sessions.begin() as session:
        row = Project(name=project)
        session.add(row)
        await session.flush()
        project_id = row.id
        session.add(Environment(project_id=row.id, name="pr-9", kind="preview", state="destroyed"))
    await deployer.deploy(project, "pr-9", 1, image(registry, project, 1))
    heard: list[object] = []

    class Heard:
        async def emit(self, event: object) -> None:
            heard.append(event)

    ctx = {
        "services": SimpleNamespace(sessions=sessions),
        "deploy": SimpleNamespace(target=target, hub=Heard(), stops=IN_PROCESS),
    }
    assert await reconcile_cluster(ctx) >= 1

    assert EnvironmentDestroyed(project_id, "pr-9") in heard
    async with sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.project_id == project_id))).all()
    assert [(e.action, e.target) for e in events] == [("environment.reclaimed", f"{project}/pr-9")]


async def test_reconciler_job_destroys_an_idle_preview_past_its_ttl_and_keeps_a_fresh_one(
    sessions, target, deployer, registry, project
):
    from datetime import timedelta
    from types import SimpleNamespace

    from sqlalchemy import select

    from bot.worker.crons import reconcile_cluster
    from deployer.config import parse_config
    from deployer.events import EnvironmentDestroyed
    from store.models import AuditEvent, Deployment, utcnow
    from tests.kubernetes.conftest import example_plan

    plan = example_plan("flask", parse_config("previews: {ttl: 2h}\n"))
    async with sessions.begin() as session:
        row = Project(name=project)
        session.add(row)
        await session.flush()
        project_id = row.id
        production = Environment(project_id=row.id, name="production", kind="production")
        session.add(production)
        await session.flush()
        running = Deployment(
            project_id=row.id,
            environment_id=production.id,
            environment="production",
            trigger="push",
            state="ready",
            config=plan.snapshot(),
        )
        session.add(running)
        await session.flush()
        production.current_deployment_id = running.id
        for name, idle in (("pr-5", timedelta(hours=3)), ("pr-6", timedelta(minutes=10))):
            session.add(
                Environment(project_id=row.id, name=name, kind="preview", last_activity_at=utcnow() - idle)
            )
    for n, environment in enumerate(("production", "pr-5", "pr-6"), start=1):
        await deployer.deploy(project, environment, n, image(registry, project, n))
    heard: list[object] = []

    class Heard:
        async def emit(self, event: object) -> None:
            heard.append(event)

    ctx = {
        "services": SimpleNamespace(sessions=sessions),
        "deploy": SimpleNamespace(target=target, hub=Heard(), stops=IN_PROCESS),
    }
    assert await reconcile_cluster(ctx) >= 1

    namespace = namespace_for(project, STYLE)
    assert target.cluster.names(namespace, {"autostack.dev/environment": "pr-5"}) == set()
    for kept in ("production", "pr-6"):
        assert ("Deployment", kept) in target.cluster.names(namespace, {"autostack.dev/environment": kept})
    assert EnvironmentDestroyed(project_id, "pr-5") in heard
    async with sessions() as session:
        states = dict((await session.execute(select(Environment.name, Environment.state))).all())
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.project_id == project_id))).all()
    assert (states["pr-5"], states["pr-6"]) == ("destroyed", "active")
    assert [(e.action, e.target) for e in events] == [("environment.expired", f"{project}/pr-5")]
