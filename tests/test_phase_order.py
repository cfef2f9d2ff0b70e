"""A deployment's phases come back from the store in the order they ran, on both backends:
PostgreSQL's JSONB keeps an object's keys shortest first, which put the CLI's `── build` header
before `── install` and the page's timeline out of order."""

from __future__ import annotations

from datetime import timedelta

from deployer.state import durations
from store.db import create_engine, sessionmaker
from store.deployments import phase_started
from store.models import Deployment, Environment, Project, utcnow

RUN_ORDER = ["source", "config", "detect", "install", "build", "release", "start", "health", "switch"]


async def test_phases_come_back_in_the_order_they_ran(backend):
    began = utcnow()
    phases: dict = {}
    for n, name in enumerate(RUN_ORDER):
        phases = phase_started(phases, name, began + timedelta(seconds=n), after_line=n)
    engine = create_engine(backend.database_url)
    sessions = sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            project = Project(name="shop")
            session.add(project)
            await session.flush()
            env = Environment(project_id=project.id, name="production", kind="production")
            session.add(env)
            await session.flush()
            row = Deployment(
                project_id=project.id,
                environment_id=env.id,
                environment="production",
                trigger="cli",
                phases=phases,
            )
            session.add(row)
        async with sessions() as session:
            stored = await session.get(Deployment, row.id)
    finally:
        await engine.dispose()
    assert list(stored.phases) == RUN_ORDER
    assert list(durations(stored.phases)) == RUN_ORDER[:-1]  # the last one is still open
