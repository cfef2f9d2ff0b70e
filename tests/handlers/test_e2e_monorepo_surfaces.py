"""End to end: a monorepo (web/ and api/) across every surface besides pushes and PR opens:
commands, merge queues, "Re-run all checks", installation and repository events, closing a
pull request, and an app taken out of `apps:`."""

from __future__ import annotations

import copy

from sqlalchemy import select

from store.models import AuditEvent, EnvironmentLock, Project
from tests.conftest import payload
from tests.handlers.doubles import REPO, pull_request, push, validated
from tests.handlers.e2e_harness import E2E
from tests.handlers.test_e2e_check_suite import SUITE_SHA, rerun_all
from tests.handlers.test_e2e_merge_group import checks_requested
from tests.handlers.test_e2e_monorepo import CONFIG, SHA1, SHA2, commit, deployed, get

ONLY_API = """\
apps:
  - name: api
    root: api
    paths: [api/**, shared/**]
"""


async def projects(e2e: E2E) -> dict[str, Project]:
    async with e2e.services.sessions() as session:
        return {p.app: p for p in (await session.scalars(select(Project))).all()}


async def app_changes(e2e: E2E) -> list[tuple[str, str, str | None, str, str]]:
    """The activity log's entries for apps leaving and rejoining `apps:`."""
    async with e2e.services.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("app.%")).order_by(AuditEvent.id)
            )
        ).all()
    return [(e.action, e.actor, e.target, e.details["commit"], e.details["reason"]) for e in rows]


async def open_pull_request_touching_api(e2e: E2E) -> None:
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    commit(e2e, SHA1)
    e2e.github.pull_files[(REPO, 2)] = ["api/index.html"]
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA1))
    assert await deployed(e2e) == [("api", "pr-2", "ready")]


def sticky(e2e: E2E) -> str:
    [comment] = [
        c for c in e2e.github.comments_on(REPO, 2) if c["body"].startswith("<!-- autostack:pr-comment")
    ]
    return comment["body"]


async def test_commands_name_an_app_or_act_on_the_apps_they_declare(e2e: E2E):
    await open_pull_request_touching_api(e2e)
    e2e.grant("boss", "maintain")
    assert "Commands: `/redeploy [<app>]` · `/promote [<app>]` · `/destroy [<app>]` · `/help`" in sticky(e2e)

    deploy = await e2e.comment("/deploy api production", "boss")
    assert e2e.reactions_on(deploy) == ["eyes", "rocket"]
    assert ("api", "production", "ready") in await deployed(e2e)
    assert not [row for row in await deployed(e2e) if row[0] == "web"]
    [run] = e2e.check_runs("AutoStack / api/production")
    assert run["conclusion"] == "success" and run["head_sha"] == SHA1
    assert (await get(e2e, "hello-world-api", "production")).status_code == 200

    rollback = await e2e.comment("/rollback", "boss")
    assert e2e.reactions_on(rollback) == ["eyes", "confused"]
    assert e2e.replies()[-1] == (
        "This repository has several apps (api, web): name the one to act on, as in `/rollback api`."
        "\nNothing was run."
    )

    await e2e.comment("/lock incident 7", "boss")
    async with e2e.services.sessions() as session:
        held = await session.execute(
            select(Project.app, EnvironmentLock.environment, EnvironmentLock.locked_reason).join(
                Project, Project.id == EnvironmentLock.project_id
            )
        )
        assert sorted(tuple(row) for row in held.all()) == [
            ("api", "production", "incident 7"),
            ("web", "production", "incident 7"),
        ]
    reply = e2e.replies()[-1]
    assert (
        "**api**: 🔒 api/production is locked by @boss: incident 7; comment `/unlock api` to resume" in reply
    )
    assert (
        "**web**: 🔒 web/production is locked by @boss: incident 7; comment `/unlock web` to resume" in reply
    )

    await e2e.comment("/help", "boss")
    assert "| `/lock [<app>] [production|preview|<env>] [reason]` |" in e2e.replies()[-1]
    # no command made a one-app project beside the apps
    assert set(await projects(e2e)) == {"api", "web"}


async def test_merge_queue_and_rerun_all_checks_report_each_app(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    group = checks_requested()
    await e2e.deliver("merge_group", group)
    group_sha = group["merge_group"]["head_sha"]
    for app in ("api", "web"):
        [run] = e2e.check_runs(f"AutoStack / {app}/production")
        assert run["head_sha"] == group_sha and run["conclusion"] == "success"
        [status] = e2e.github.statuses_for(group_sha, f"autostack/{app}/production")
        assert status["state"] == "success"
    assert e2e.check_runs("AutoStack / production") == []

    e2e.grant("Codertocat", "maintain")
    commit(e2e, SUITE_SHA)
    body = push(sha=SUITE_SHA, pushed_at=1_700_000_000)
    body["before"] = "0a" * 20  # GitHub cannot compare it: every app deploys
    await e2e.deliver("push", body)
    assert sorted(await deployed(e2e)) == [("api", "production", "ready"), ("web", "production", "ready")]

    await e2e.deliver("check_suite", rerun_all())
    rows = await deployed(e2e)
    assert sorted(rows[2:]) == [("api", "production", "ready"), ("web", "production", "ready")]
    for app in ("api", "web"):
        runs = [r for r in e2e.check_runs(f"AutoStack / {app}/production") if r["head_sha"] == SUITE_SHA]
        assert [r["conclusion"] for r in runs] == ["success", "success"]
    assert set(await projects(e2e)) == {"api", "web"}


async def test_installation_and_repository_events_make_one_project_per_app(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    installed = copy.deepcopy(payload("installation/created"))
    installed["installation"]["id"] = push()["installation"]["id"]
    await e2e.deliver("installation", validated("installation", "created", installed))
    found = await projects(e2e)
    assert {app: p.name for app, p in found.items()} == {"api": "hello-world-api", "web": "hello-world-web"}

    renamed = copy.deepcopy(payload("repository/renamed"))
    renamed["repository"].update(id=push()["repository"]["id"], full_name="Codertocat/Hello-Universe")
    renamed["installation"] = copy.deepcopy(push()["installation"])
    await e2e.deliver("repository", renamed)
    found = await projects(e2e)
    assert set(found) == {"api", "web"}
    assert {p.full_name for p in found.values()} == {"Codertocat/Hello-Universe"}


async def test_closing_destroys_each_deployed_preview_and_skipped_apps_stay_skipped(e2e: E2E):
    await open_pull_request_touching_api(e2e)

    await e2e.deliver("pull_request", pull_request("closed", sha=SHA1, updated_at="2024-01-01T12:00:00Z"))

    assert (await get(e2e, "hello-world-api", "pr-2")).status_code in (404, 502)
    lines = sticky(e2e).splitlines()
    api_line = next(line for line in lines if line.startswith("| api | pr-2 |"))
    web_line = next(line for line in lines if line.startswith("| web | pr-2 |"))
    assert "Destroyed" in api_line
    assert "Skipped: no changes" in web_line and "Destroyed" not in web_line


async def test_an_app_taken_out_of_apps_is_archived_on_the_next_push_and_restored_when_back(e2e: E2E):
    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    commit(e2e, SHA1)
    first = push(sha=SHA1, pushed_at=1_700_000_000)
    first["before"] = "0a" * 20
    await e2e.deliver("push", first)
    assert {app: p.archived_at for app, p in (await projects(e2e)).items()} == {"api": None, "web": None}

    e2e.github.files[(REPO, "autostack.yml", None)] = ONLY_API
    commit(e2e, SHA2)
    e2e.github.compared[(REPO, SHA1, SHA2)] = ["autostack.yml"]
    second = push(sha=SHA2, pushed_at=1_700_000_060)
    second["before"] = SHA1
    await e2e.deliver("push", second)
    found = await projects(e2e)
    assert found["web"].archived_at is not None and found["api"].archived_at is None
    pusher = second["sender"]["login"]
    archived = ("app.archive", pusher, "hello-world-web", SHA2, "not in autostack.yml")
    assert await app_changes(e2e) == [archived]
    rows = await deployed(e2e)
    assert sorted(rows[:2]) == [("api", "production", "ready"), ("web", "production", "ready")]
    assert rows[2:] == [("api", "production", "ready")]  # the web app is not deployed any more

    # a pull request's comment no longer lists the app that is gone
    e2e.github.pull_files[(REPO, 2)] = ["api/index.html"]
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA2))
    assert not [line for line in sticky(e2e).splitlines() if line.startswith("| web |")]

    e2e.github.files[(REPO, "autostack.yml", None)] = CONFIG
    third = push(sha=SHA1, pushed_at=1_700_000_120)
    third["before"] = SHA2
    e2e.github.compared[(REPO, SHA2, SHA1)] = ["web/index.html"]
    await e2e.deliver("push", third)
    assert (await projects(e2e))["web"].archived_at is None
    assert (await deployed(e2e))[-1] == ("web", "production", "ready")
    restored = ("app.restore", pusher, "hello-world-web", SHA1, "listed again in autostack.yml")
    assert await app_changes(e2e) == [archived, restored]
