"""check_run buttons and re-runs, and repository bookkeeping."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from store.models import Project
from tests.handlers.conftest import Harness
from tests.handlers.doubles import payload, pull_request, push, validated


def check_event(
    action: str, deployment_id: int, environment: str, identifier: str | None = None
) -> dict[str, Any]:
    """A check_run event on AutoStack's check run (derived from the real re-run request)."""
    body = copy.deepcopy(payload("check_run/rerequested"))
    body["action"] = action
    # AutoStack's check runs are on the repository the other tests deploy
    body["repository"] = copy.deepcopy(payload("pull_request/opened")["repository"])
    body["check_run"].update(name=f"AutoStack / {environment}", external_id=str(deployment_id))
    if identifier is not None:
        body["requested_action"] = {"identifier": identifier}
    return validated("check_run", action, body)


async def test_rerun_redeploys_the_check_runs_commit(harness: Harness):
    harness.github.permissions["octocat"] = "write"
    await harness.deliver("push", push(sha="1" * 40))
    first = (await harness.deployments())[0]
    await harness.deliver("check_run", check_event("rerequested", first.id, "production"))
    again = (await harness.deployments())[-1]
    assert (again.id != first.id, again.commit_sha, again.trigger, again.environment) == (
        True,
        "1" * 40,
        "command",
        "production",
    )


async def test_buttons_need_the_same_permission_as_commands(harness: Harness):
    harness.github.permissions["octocat"] = "write"
    await harness.deliver("pull_request", pull_request("opened"))
    preview = (await harness.deployments())[0]
    await harness.mark_ready(preview.id)
    await harness.deliver("check_run", check_event("requested_action", preview.id, "pr-2", "promote"))
    assert len(await harness.deployments()) == 1
    assert "`/promote` needs **maintain** access" in harness.github.comments[-1][1]
    assert harness.jobs.named("run_deployment") == [(preview.id,)]


async def test_promote_button(harness: Harness):
    harness.github.permissions["octocat"] = "maintain"
    await harness.deliver("pull_request", pull_request("opened"))
    preview = (await harness.deployments())[0]
    await harness.mark_ready(preview.id)
    await harness.deliver("check_run", check_event("requested_action", preview.id, "pr-2", "promote"))
    promoted = (await harness.deployments())[-1]
    assert (promoted.environment, promoted.source_deployment_id) == ("production", preview.id)


async def test_other_apps_check_runs_and_unknown_buttons_are_ignored(harness: Harness):
    await harness.deliver("check_run", payload("check_run/rerequested"))
    await harness.deliver("check_run", check_event("requested_action", 1, "production", "lgtm"))
    assert await harness.deployments() == [] and harness.github.comments == []


async def test_renamed_repository_keeps_its_project(harness: Harness):
    await harness.deliver("push", push())
    renamed = copy.deepcopy(payload("repository/renamed"))
    renamed["repository"]["id"] = push()["repository"]["id"]
    renamed["repository"]["full_name"] = "Codertocat/Hello-Universe"
    await harness.deliver("repository", renamed)
    async with harness.sessions() as session:
        [project] = (await session.scalars(select(Project))).all()
    assert project.full_name == "Codertocat/Hello-Universe" and project.name == "hello-world"
