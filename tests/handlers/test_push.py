"""push and delete: production, configured branches, skips, ordering, deletions."""

from __future__ import annotations

from tests.handlers.conftest import Harness
from tests.handlers.doubles import payload, push


async def test_push_to_default_branch_deploys_production(harness: Harness):
    await harness.deliver("push", push(sha="1" * 40, message="Add page"))
    [deployment] = await harness.deployments()
    assert (deployment.environment, deployment.commit_sha, deployment.trigger) == (
        "production",
        "1" * 40,
        "push",
    )
    assert (deployment.commit_message, deployment.ref, deployment.actor) == (
        "Add page",
        "master",
        "Codertocat",
    )
    assert deployment.delivery_id == "d-1" and deployment.commit_time is not None
    assert harness.jobs.queued == [("run_deployment", (deployment.id,), f"deployment-{deployment.id}")]


async def test_the_same_delivery_twice_makes_one_deployment(harness: Harness):
    body = push()
    await harness.deliver("push", body, delivery_id="same")
    await harness.deliver("push", body, delivery_id="same")
    assert len(await harness.deployments()) == 1
    assert len(harness.jobs.named("run_deployment")) == 1


async def test_tags_and_unlisted_branches_are_not_deployed(harness: Harness):
    await harness.deliver("push", push("refs/tags/v1.0"))
    await harness.deliver("push", push("refs/heads/feature"))
    await harness.deliver("push", payload("push/with-installation"))  # a deleted tag
    assert await harness.deployments() == [] and harness.jobs.queued == []


async def test_listed_branches_get_their_environment(harness: Harness):
    harness.github.files["autostack.yml"] = "branches: [staging, release/*]\n"
    await harness.deliver("push", push("refs/heads/staging"))
    await harness.deliver("push", push("refs/heads/release/2.0"))
    assert [d.environment for d in await harness.deployments()] == ["branch-staging", "branch-release-2-0"]
    env = await harness.environment("branch-release-2-0")
    assert env is not None and env.branch == "release/2.0" and env.kind == "branch"


async def test_a_broken_config_still_deploys_production(harness: Harness):
    harness.github.files["autostack.yml"] = "branches: {nope"
    await harness.deliver("push", push("refs/heads/staging"))
    await harness.deliver("push", push())
    assert [d.environment for d in await harness.deployments()] == ["production"]


async def test_skip_markers(harness: Harness):
    await harness.deliver("push", push(message="Fix typo [skip deploy]"))
    await harness.deliver("push", push(message="Docs\n\n[SKIP CI]"))
    assert await harness.deployments() == []


async def test_an_older_push_arriving_late_does_not_replace_the_newer(harness: Harness):
    await harness.deliver("push", push(sha="2" * 40, pushed_at=1_700_000_100))
    await harness.deliver("push", push(sha="1" * 40, pushed_at=1_700_000_000))
    assert [d.commit_sha for d in await harness.deployments()] == ["2" * 40]
    env = await harness.environment("production")
    assert env is not None and env.head_sha == "2" * 40


async def test_a_force_push_deploys_the_new_head_even_if_its_commit_is_older(harness: Harness):
    await harness.deliver("push", push(sha="2" * 40, pushed_at=1_700_000_000))
    # reset to an older commit and force-pushed: the commit is old, the push is new
    body = push(sha="1" * 40, pushed_at=1_700_000_050, forced=True)
    body["head_commit"]["timestamp"] = "2019-01-01T00:00:00Z"
    await harness.deliver("push", body)
    assert [d.commit_sha for d in await harness.deployments()] == ["2" * 40, "1" * 40]


async def test_a_deleted_branch_destroys_its_environment(harness: Harness):
    harness.github.files["autostack.yml"] = "branches: [staging]\n"
    await harness.deliver("push", push("refs/heads/staging", pushed_at=1_700_000_000))
    await harness.deliver("push", push("refs/heads/staging", deleted=True, pushed_at=1_700_000_100))
    project_id = (await harness.deployments())[0].project_id
    assert harness.jobs.named("destroy_environment") == [(project_id, "branch-staging")]
    # a push older than the deletion, delivered late, does not bring it back
    await harness.deliver("push", push("refs/heads/staging", sha="9" * 40, pushed_at=1_700_000_050))
    assert len(await harness.deployments()) == 1


async def test_delete_event_for_a_branch(harness: Harness):
    harness.github.files["autostack.yml"] = "branches: [simple-tag]\n"
    await harness.deliver("push", push("refs/heads/simple-tag"))
    tag = payload("delete/with-installation")
    await harness.deliver("delete", tag)
    assert harness.jobs.named("destroy_environment") == []
    await harness.deliver("delete", dict(tag, ref_type="branch"))
    assert [args[1] for args in harness.jobs.named("destroy_environment")] == ["branch-simple-tag"]
