"""Commands in pull request comments: reactions, permissions, forks, releases, bots."""

from __future__ import annotations

from sqlalchemy import select, update

from handlers import default_router
from handlers.router import dispatch
from store.errors import TemporaryError
from store.models import Project
from tests.handlers.conftest import Harness
from tests.handlers.doubles import FakeGitHub, context, payload, pr_comment, pull_request

HEAD = "b" * 40


async def opened(harness: Harness, **kwargs: object) -> None:
    await harness.deliver(
        "pull_request", pull_request("opened", sha=HEAD, updated_at="2024-01-01T10:00:00Z", **kwargs)
    )  # type: ignore[arg-type]


async def test_deploy_production_by_a_writer_is_refused_with_the_permission_needed(harness: Harness):
    await opened(harness)
    harness.github.permissions["reader"] = "read"
    harness.github.permissions["writer"] = "write"
    for login in ("reader", "writer"):
        await harness.deliver("issue_comment", pr_comment("/deploy production", login=login))
    assert [d.environment for d in await harness.deployments()] == ["pr-2"]  # only the PR's own
    refusals = [body for _, body in harness.github.comments]
    assert "@reader `/deploy production` needs **maintain** access" in refusals[0]
    assert "you have write access" in refusals[1] and "Nothing was run." in refusals[1]
    comment_id = payload("issue_comment/created.with-installation")["comment"]["id"]
    assert harness.github.reactions == [(comment_id, "eyes"), (comment_id, "confused")] * 2


async def test_deploy_production_by_a_maintainer(harness: Harness):
    await opened(harness)
    harness.github.permissions["boss"] = "maintain"
    await harness.deliver("issue_comment", pr_comment("/deploy production", login="boss"))
    production = (await harness.deployments())[-1]
    assert (production.environment, production.commit_sha, production.trigger, production.actor) == (
        "production",
        HEAD,
        "command",
        "boss",
    )
    assert harness.github.reactions[-1][1] == "rocket" and harness.github.comments == []


async def test_admin_only_production_when_configured(harness: Harness):
    from handlers.context import HandlerSettings

    harness.settings = HandlerSettings(production_permission="admin")
    await opened(harness)
    harness.github.permissions["boss"] = "maintain"
    await harness.deliver("issue_comment", pr_comment("/promote", login="boss"))
    assert "needs **admin** access" in harness.github.comments[-1][1]


async def test_bots_edits_plain_issues_and_chatter_are_ignored(harness: Harness):
    await opened(harness)
    harness.github.permissions["autostack[bot]"] = "admin"
    await harness.deliver(
        "issue_comment", pr_comment("/deploy production", login="autostack[bot]", user_type="Bot")
    )
    await harness.deliver("issue_comment", pr_comment("/deploy production", login="helper[bot]"))
    edited = dict(pr_comment("/deploy production"), action="edited")
    await harness.deliver("issue_comment", edited)
    await harness.deliver("issue_comment", payload("issue_comment/created.with-installation"))  # plain issue
    await harness.deliver("issue_comment", pr_comment("Looks good to me"))
    assert len(await harness.deployments()) == 1
    assert harness.github.reactions == [] and harness.github.comments == []


async def test_unknown_command_gets_help_and_a_confused_reaction(harness: Harness):
    await harness.deliver("issue_comment", pr_comment("/shipit"))
    [(number, body)] = harness.github.comments
    assert number == 2 and "`/shipit` is not an AutoStack command." in body and "/rollback" in body
    assert [r for _, r in harness.github.reactions] == ["eyes", "confused"]


async def test_help_and_status_need_no_permission(harness: Harness):
    await opened(harness)
    await harness.deliver("issue_comment", pr_comment("/help\n/status", login="stranger"))
    [(_, body)] = harness.github.comments
    assert "**AutoStack commands**" in body and "| pr-2 | queued |" in body
    assert [r for _, r in harness.github.reactions] == ["eyes", "rocket"]


async def test_fork_deploys_only_the_head_a_writer_approved(harness: Harness):
    await opened(harness, fork=True)
    harness.github.permissions.update(mallory="read", writer="write")
    await harness.deliver("issue_comment", pr_comment("/deploy", login="mallory"))
    assert await harness.deployments() == []
    await harness.deliver("issue_comment", pr_comment("/deploy", login="writer"))
    [deployment] = await harness.deployments()
    assert deployment.commit_sha == HEAD and deployment.environment == "pr-2"
    env = await harness.environment("pr-2")
    assert env is not None and (env.approved_sha, env.approved_by, env.untrusted) == (HEAD, "writer", True)
    # a new push needs a new approval
    await harness.deliver(
        "pull_request",
        pull_request("synchronize", sha="c" * 40, fork=True, updated_at="2024-01-01T12:00:00Z"),
    )
    assert len(await harness.deployments()) == 1
    await harness.deliver(
        "issue_comment", pr_comment("/redeploy", login="writer", created_at="2024-01-01T12:01:00Z")
    )
    assert "is not approved" in harness.github.comments[-1][1]


async def test_a_fork_approval_written_before_the_latest_push_is_refused(harness: Harness):
    await opened(harness, fork=True)
    await harness.deliver(
        "pull_request",
        pull_request("synchronize", sha="c" * 40, fork=True, updated_at="2024-01-01T12:00:00Z"),
    )
    harness.github.permissions["writer"] = "write"
    await harness.deliver(
        "issue_comment", pr_comment("/deploy", login="writer", created_at="2024-01-01T11:00:00Z")
    )
    assert await harness.deployments() == []
    assert "moved to `ccccccc` after your comment" in harness.github.comments[-1][1]


async def test_forks_never_reach_production(harness: Harness):
    await opened(harness, fork=True)
    harness.github.permissions["boss"] = "admin"
    await harness.deliver("issue_comment", pr_comment("/deploy production", login="boss"))
    assert await harness.deployments() == []
    assert "merging" in harness.github.comments[-1][1]


async def test_rollback_and_promote_reuse_builds(harness: Harness):
    harness.github.permissions["boss"] = "maintain"
    await opened(harness)
    preview = (await harness.deployments())[0]
    await harness.mark_ready(preview.id, artifact="preview-build")
    await harness.deliver("issue_comment", pr_comment("/promote", login="boss"))
    promoted = (await harness.deployments())[-1]
    assert (promoted.environment, promoted.trigger, promoted.source_deployment_id) == (
        "production",
        "promote",
        preview.id,
    )
    await harness.mark_ready(promoted.id, artifact="preview-build")
    await harness.deliver("issue_comment", pr_comment("/deploy production", login="boss"))
    fresh = (await harness.deployments())[-1]
    await harness.mark_ready(fresh.id, artifact="fresh-build")
    await harness.deliver("issue_comment", pr_comment("/rollback", login="boss"))
    back = (await harness.deployments())[-1]
    assert (back.trigger, back.source_deployment_id, back.environment) == (
        "rollback",
        promoted.id,
        "production",
    )
    await harness.deliver("issue_comment", pr_comment(f"/rollback {HEAD[:7]}", login="boss"))
    assert (await harness.deployments())[-1].source_deployment_id == fresh.id
    await harness.deliver("issue_comment", pr_comment("/rollback 999", login="boss"))
    assert "Cannot roll back: deployment 999 never went live" in harness.github.comments[-1][1]


async def test_destroy_and_closed_pull_requests(harness: Harness):
    harness.github.permissions["boss"] = "maintain"
    await opened(harness)
    await harness.deliver("issue_comment", pr_comment("/destroy", login="boss"))
    assert [args[1] for args in harness.jobs.named("destroy_environment")] == ["pr-2"]
    await harness.deliver("issue_comment", pr_comment("/deploy", login="boss", state="closed"))
    assert "#2 is closed" in harness.github.comments[-1][1]


async def test_several_commands_in_one_comment_are_authorized_before_any_runs(harness: Harness):
    await opened(harness)
    harness.github.permissions["writer"] = "write"
    await harness.deliver("issue_comment", pr_comment("/redeploy\n/promote", login="writer"))
    assert len(await harness.deployments()) == 1
    assert harness.github.permission_calls == 1  # cached for the second command


class LimitedGitHub(FakeGitHub):
    """GitHub that rate-limits every permission lookup."""

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        self.permission_calls += 1
        raise TemporaryError("GitHub's rate limit; try again in 1800 s")


async def test_a_failed_permission_lookup_reacts_once_and_replies_once_at_the_end(harness: Harness):
    await opened(harness)
    github = LimitedGitHub()
    body = pr_comment("/deploy production", login="boss")
    handled: list[str] = []
    results = []
    for attempt in range(1, 9):  # the delivery job's tries, as the worker makes them
        ctx = context(harness.sessions, "issue_comment", body, jobs=harness.jobs, github=github)
        ctx.last_attempt = attempt == 8
        result = await dispatch(default_router(), ctx, skip=handled)
        handled = result.done
        results.append(result)

    comment_id = body["comment"]["id"]
    assert github.reactions == [(comment_id, "eyes"), (comment_id, "confused")]
    [(number, reply)] = github.comments
    assert number == body["issue"]["number"]
    assert "@boss I could not check your permission to run `/deploy production`" in reply
    assert "Nothing was run" in reply and "again in a few minutes" in reply
    assert github.permission_calls == 8
    assert all(r.temporary for r in results[:7]) and not results[-1].temporary
    assert "could not look up boss's permission" in results[-1].permanent["handlers.comments.on_comment"]
    assert [d.environment for d in await harness.deployments()] == ["pr-2"]


async def test_commands_on_an_archived_repository_get_no_reaction_and_make_no_project(harness: Harness):
    await opened(harness)
    async with harness.sessions.begin() as session:
        await session.execute(update(Project).values(archived_at=Project.created_at))
    await harness.deliver("issue_comment", pr_comment("/status", login="octocat"))
    assert harness.github.reactions == [] and harness.github.comments == []
    async with harness.sessions() as session:
        assert len((await session.scalars(select(Project))).all()) == 1
