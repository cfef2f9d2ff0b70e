"""What GitHub events and pull-request commands change lands in the team's activity log."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from store.db import create_engine, sessionmaker
from store.models import AuditEvent, Project, Team
from tests.conftest import Backend
from tests.handlers.conftest import Harness
from tests.handlers.doubles import REPO, payload, pr_comment, pull_request, validated

INSTALLATION = payload("installation/created")["installation"]


@pytest.fixture
async def harness(backend: Backend) -> AsyncIterator[Harness]:
    """The handler harness on each backend: the entries' JSON details and team look-ups are each
    dialect's own."""
    engine = create_engine(backend.database_url)
    try:
        yield Harness(sessionmaker(engine))
    finally:
        await engine.dispose()


def about_the_installation(name: str) -> dict[str, Any]:
    """A real installation-family payload, sent for the installation `installation/created` made."""
    body = copy.deepcopy(payload(name))
    body["installation"].update(id=INSTALLATION["id"], account=copy.deepcopy(INSTALLATION["account"]))
    body["sender"] = copy.deepcopy(payload("installation/created")["sender"])
    event, action = name.split("/")
    return validated(event, action, body)


def about_hello_world(fixture: str, **repository: Any) -> dict[str, Any]:
    """The real `repository/<fixture>` event, about the installed Hello-World (a deletion is
    derived from the rename)."""
    body = copy.deepcopy(payload(f"repository/{'renamed' if fixture == 'deleted' else fixture}"))
    if fixture == "deleted":
        body["action"] = "deleted"
        del body["changes"]
    if "installation" in body:
        body["installation"]["id"] = INSTALLATION["id"]
    body["repository"].update({"id": 186853002, "name": "Hello-World", "full_name": REPO, **repository})
    return validated("repository", body["action"], body)


async def entries(harness: Harness) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    async with harness.sessions() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    return [(e.action, e.actor, e.target, e.details) for e in rows]


async def teams_of_entries(harness: Harness) -> set[int | None]:
    async with harness.sessions() as session:
        return set((await session.scalars(select(AuditEvent.team_id))).all())


async def installation_team(harness: Harness) -> int:
    async with harness.sessions() as session:
        team = await session.scalar(select(Team.id).where(Team.installation_id == INSTALLATION["id"]))
    assert team is not None
    return team


async def test_an_installations_life_is_logged_on_its_team(harness: Harness):
    await harness.deliver("installation", payload("installation/created"))
    for name in ("installation/suspend", "installation/unsuspend"):
        await harness.deliver("installation", about_the_installation(name))
    await harness.deliver(
        "installation_repositories", about_the_installation("installation_repositories/added")
    )
    removed = about_the_installation("installation_repositories/removed")
    removed["repositories_removed"] = copy.deepcopy(
        payload("installation_repositories/added")["repositories_added"]
    )
    await harness.deliver("installation_repositories", removed)
    await harness.deliver("installation", about_the_installation("installation/deleted"))

    github = {"via": "github"}
    assert await entries(harness) == [
        (
            "installation.created",
            "Codertocat",
            "Codertocat",
            {**github, "repositories": ["Codertocat/Hello-World"]},
        ),
        ("installation.suspend", "Codertocat", "Codertocat", github),
        ("installation.unsuspend", "Codertocat", "Codertocat", {**github, "repositories": []}),
        (
            "installation_repositories.added",
            "Codertocat",
            "Codertocat",
            {**github, "repositories": ["Codertocat/Space"]},
        ),
        (
            "installation_repositories.removed",
            "Codertocat",
            "Codertocat",
            {**github, "repositories": ["Codertocat/Space"], "archived": ["space"]},
        ),
        (
            "installation.deleted",
            "Codertocat",
            "Codertocat",
            {**github, "archived": ["hello-world", "space"]},
        ),
    ]
    assert await teams_of_entries(harness) == {await installation_team(harness)}


async def test_a_repository_followed_or_deleted_is_logged_on_its_projects_team(harness: Harness):
    await harness.deliver("installation", payload("installation/created"))
    moved = "Codertocat/Hello-Universe"
    await harness.deliver("repository", about_hello_world("renamed", name="Hello-Universe", full_name=moved))
    # an edit of what AutoStack does not follow (here the description) changes no project
    await harness.deliver("repository", about_hello_world("edited", full_name=moved))
    await harness.deliver(
        "repository",
        about_hello_world("edited.with-default_branch-edit", full_name=moved, default_branch="main"),
    )
    await harness.deliver("repository", about_hello_world("deleted", full_name=moved))

    github = {"via": "github"}
    assert (await entries(harness))[1:] == [
        (
            "repository.renamed",
            "Codertocat",
            "hello-world",
            {
                **github,
                "repository": "Codertocat/Hello-Universe",
                "was": "Codertocat/Hello-World",
                "default_branch": "master",
            },
        ),
        (
            "repository.edited",
            "Codertocat",
            "hello-world",
            {
                **github,
                "repository": "Codertocat/Hello-Universe",
                "was": "Codertocat/Hello-Universe",
                "default_branch": "main",
            },
        ),
        ("repository.deleted", "Codertocat", "hello-world", github),
    ]
    assert await teams_of_entries(harness) == {await installation_team(harness)}
    async with harness.sessions() as session:
        project = (await session.scalars(select(Project))).one()
    assert project.archived_at is not None


async def test_every_command_that_changes_something_is_logged(harness: Harness):
    await harness.deliver("pull_request", pull_request("opened", sha="b" * 40))
    harness.github.permissions["boss"] = "maintain"
    for text in ("/deploy", "/redeploy", "/lock incident 7", "/unlock", "/unlock", "/status"):
        await harness.deliver("issue_comment", pr_comment(text, login="boss"))

    logged = [
        (action, actor, target, d["command"], d["done"], d["pr"], d["via"])
        for action, actor, target, d in await entries(harness)
    ]
    comment = "pull request comment"
    assert logged == [
        ("deploy", "boss", "hello-world", "/deploy", True, 2, comment),
        ("redeploy", "boss", "hello-world", "/redeploy", True, 2, comment),
        ("lock", "boss", "hello-world", "/lock incident 7", True, 2, comment),
        ("unlock", "boss", "hello-world", "/unlock", True, 2, comment),
        ("unlock", "boss", "hello-world", "/unlock", False, 2, comment),
    ]
