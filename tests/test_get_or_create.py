"""Concurrent deliveries about one new installation, repository or environment make one row each
and all succeed: get-or-create cannot race into an IntegrityError."""

from __future__ import annotations

import asyncio
import uuid

import orjson
from sqlalchemy import func, select

from bot.worker.deliveries import process_delivery
from store.models import Deployment, Environment, Installation, Project, Team
from store.upserts import get_or_create_environment, get_or_create_repo_project
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import Harness, running

CONCURRENT = 100


async def _deliver_and_process_at_once(h: Harness, event: str, body: bytes) -> dict[str, int]:
    ids = [str(uuid.uuid4()) for _ in range(CONCURRENT)]
    async with asyncio.TaskGroup() as group:
        posts = [group.create_task(h.post(body, signed_headers(body, event, i))) for i in ids]
    answers = [post.result() for post in posts]
    assert [a.status_code for a in answers] == [202] * CONCURRENT
    # connected first: Services.queue() connects lazily, and 100 first uses at once would each connect
    await h.services.queue()
    # a task group, not gather: should one fail, the others are cancelled and awaited here,
    # inside the harness, instead of running on against its closed engine and queue until the
    # event loop's teardown cancels them
    async with asyncio.TaskGroup() as group:
        runs = [group.create_task(process_delivery(h.services, i)) for i in ids]
    states = [run.result() for run in runs]
    rows = {row.delivery_id: row for row in await h.deliveries()}
    assert [rows[i].error for i in ids if rows[i].error] == []
    return {state: states.count(state) for state in set(states)}


async def _count(h: Harness, model: type) -> int:
    async with h.services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_concurrent_deliveries_of_one_new_installation_make_one_of_each(backend, tmp_path):
    body = payload_bytes("installation/created")
    async with running(backend.settings(tmp_path), relay=False) as h:
        assert await _deliver_and_process_at_once(h, "installation", body) == {"done": CONCURRENT}
        counts = [await _count(h, model) for model in (Installation, Team, Project)]
    assert counts == [1, 1, 1]


async def test_concurrent_pushes_to_one_new_repository_make_one_project_and_environment(backend, tmp_path):
    push = orjson.loads(payload_bytes("push/with-new-branch"))
    push["ref"] = f"refs/heads/{push['repository']['default_branch']}"
    push["installation"] = {"id": 31337}
    body = orjson.dumps(push)
    async with running(backend.settings(tmp_path), relay=False) as h:
        assert await _deliver_and_process_at_once(h, "push", body) == {"done": CONCURRENT}
        counts = [await _count(h, model) for model in (Installation, Project, Environment, Deployment)]
        async with h.services.sessions() as session:
            [name] = (await session.scalars(select(Environment.name))).all()
    assert counts == [1, 1, 1, CONCURRENT]
    assert name == "production"


async def test_two_repositories_wanting_one_name_get_two_projects(backend, tmp_path):
    """A name another repository takes meanwhile is skipped for the next one."""
    async with running(backend.settings(tmp_path), relay=False) as h:

        async def create(repo_id: int) -> str:
            async with h.services.sessions.begin() as session:
                project = await get_or_create_repo_project(session, repo_id, iter(["app", "app-2", "app-3"]))
                return project.name

        names = await asyncio.gather(*(create(repo_id) for repo_id in (1, 2, 1, 2, 1, 2)))
    assert sorted(set(names)) == ["app", "app-2"]
    assert names[0::2] == [names[0]] * 3 and names[1::2] == [names[1]] * 3


async def test_get_or_create_environment_returns_the_existing_row(backend, tmp_path):
    async with running(backend.settings(tmp_path), relay=False) as h:
        async with h.services.sessions.begin() as session:
            project = await get_or_create_repo_project(session, 7, iter(["web"]))
            first = await get_or_create_environment(session, project.id, "pr-1", "preview")
            first.url = "https://pr-1.example"
        async with h.services.sessions.begin() as session:
            again = await get_or_create_environment(session, project.id, "pr-1", "branch")
    assert (again.id, again.kind, again.url) == (first.id, "preview", "https://pr-1.example")
