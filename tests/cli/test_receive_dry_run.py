"""`autostack receive --dry-run` runs the handlers in-process and leaves nothing behind."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from bot.intake.receive import dispatch_locally
from store.db import create_engine, sessionmaker
from store.models import AuditEvent, Delivery, Deployment, Environment, Installation, Project
from tests.conftest import payload_bytes

TABLES = (Delivery, Installation, Project, Environment, Deployment, AuditEvent)


def push_to_the_default_branch() -> bytes:
    push = orjson.loads(payload_bytes("push/with-new-branch"))
    push["ref"] = f"refs/heads/{push['repository']['default_branch']}"
    return orjson.dumps(push)


async def rows(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            return {
                model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
                for model in TABLES
            }
    finally:
        await engine.dispose()


async def test_a_dry_run_says_what_it_would_queue_and_stores_nothing(backend, tmp_path, capsys):
    settings = backend.settings(tmp_path)
    state = await dispatch_locally(settings, "push", push_to_the_default_branch(), "dry-1", dry_run=True)
    assert state == "done"
    assert "would enqueue run_deployment" in capsys.readouterr().out
    assert await rows(backend.database_url) == {model.__tablename__: 0 for model in TABLES}

    # the same delivery for real is not taken for one already handled
    state = await dispatch_locally(settings, "push", push_to_the_default_branch(), "dry-1", dry_run=False)
    assert state == "done"
    counted = await rows(backend.database_url)
    assert (counted["deliveries"], counted["deployments"]) == (1, 1)
