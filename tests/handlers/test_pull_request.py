"""pull_request: previews of the head, drafts, forks waiting for approval, closing."""

from __future__ import annotations

from tests.handlers.conftest import Harness
from tests.handlers.doubles import payload, pull_request, validated

T1, T2, T3 = "2024-01-01T10:00:00Z", "2024-01-01T10:05:00Z", "2024-01-01T10:10:00Z"


async def test_opened_and_synchronize_deploy_the_head_to_the_preview(harness: Harness):
    await harness.deliver("pull_request", pull_request("opened", sha="1" * 40, updated_at=T1))
    await harness.deliver("pull_request", pull_request("synchronize", sha="2" * 40, updated_at=T2))
    deployments = await harness.deployments()
    assert [(d.environment, d.commit_sha, d.pr_number, d.ref) for d in deployments] == [
        ("pr-2", "1" * 40, 2, "changes"),
        ("pr-2", "2" * 40, 2, "changes"),
    ]
    env = await harness.environment("pr-2")
    assert env is not None and (env.kind, env.pr_number, env.untrusted) == ("preview", 2, False)
    assert len(harness.jobs.named("run_deployment")) == 2


async def test_an_older_synchronize_arriving_late_is_ignored(harness: Harness):
    await harness.deliver("pull_request", pull_request("synchronize", sha="2" * 40, updated_at=T2))
    await harness.deliver("pull_request", pull_request("synchronize", sha="1" * 40, updated_at=T1))
    assert [d.commit_sha for d in await harness.deployments()] == ["2" * 40]


async def test_edited_and_labeled_do_nothing(harness: Harness):
    edited = dict(payload("pull_request/opened"), action="edited", changes={"title": {"from": "Old"}})
    await harness.deliver("pull_request", validated("pull_request", "edited", edited))
    await harness.deliver("pull_request", payload("pull_request/labeled"))
    assert await harness.deployments() == [] and harness.jobs.queued == []


async def test_drafts_only_when_configured(harness: Harness):
    await harness.deliver("pull_request", pull_request("opened", draft=True, updated_at=T1))
    assert await harness.deployments() == []
    await harness.deliver("pull_request", pull_request("ready_for_review", updated_at=T2))
    assert len(await harness.deployments()) == 1
    harness.github.files["autostack.yml"] = "previews: {drafts: true}\n"
    await harness.deliver("pull_request", pull_request("opened", number=3, draft=True))
    assert len(await harness.deployments()) == 2


async def test_previews_disabled(harness: Harness):
    harness.github.files["autostack.yml"] = "previews: {enabled: false}\n"
    await harness.deliver("pull_request", pull_request("opened"))
    assert await harness.deployments() == []


async def test_closed_destroys_and_a_late_synchronize_does_not_revive(harness: Harness):
    await harness.deliver("pull_request", pull_request("opened", updated_at=T1))
    await harness.deliver("pull_request", pull_request("closed", merged=True, updated_at=T3))
    project_id = (await harness.deployments())[0].project_id
    assert harness.jobs.named("destroy_environment") == [(project_id, "pr-2")]
    await harness.deliver("pull_request", pull_request("synchronize", sha="3" * 40, updated_at=T2))
    assert len(await harness.deployments()) == 1


async def test_closing_a_pull_request_that_never_deployed_needs_no_job(harness: Harness):
    harness.github.files["autostack.yml"] = "previews: {enabled: false}\n"
    await harness.deliver("pull_request", pull_request("opened", updated_at=T1))
    await harness.deliver("pull_request", pull_request("closed", updated_at=T2))
    assert harness.jobs.queued == []
    env = await harness.environment("pr-2")
    assert env is not None and env.state == "destroyed"


async def test_a_fork_waits_for_approval_and_is_untrusted(harness: Harness):
    await harness.deliver("pull_request", pull_request("opened", fork=True, sha="f" * 40, updated_at=T1))
    assert await harness.deployments() == []
    env = await harness.environment("pr-2")
    assert env is not None and env.untrusted and env.head_sha == "f" * 40 and env.approved_sha is None
    assert harness.jobs.named("refresh_pr_comment") == [(env.project_id, 2)]
    assert harness.jobs.named("run_deployment") == []
