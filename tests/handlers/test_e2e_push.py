"""End to end: a push to the default branch goes live in production, and GitHub shows it."""

from __future__ import annotations

from tests.handlers.doubles import push
from tests.handlers.e2e_harness import E2E

SHA1, SHA2 = "1" * 40, "2" * 40


async def test_push_to_default_branch_serves_the_new_commit_in_production(e2e: E2E):
    first = e2e.commit(SHA1)
    await e2e.deliver("push", push(sha=SHA1, pushed_at=1_700_000_000))
    page = await e2e.get("production")
    assert page.status_code == 200 and page.text == first

    second = e2e.commit(SHA2)
    await e2e.deliver("push", push(sha=SHA2, pushed_at=1_700_000_060))
    page = await e2e.get("production")
    assert page.status_code == 200 and page.text == second

    url = e2e.url("production")
    deployments = await e2e.deployments("production")
    assert [(d.commit_sha, d.state, d.trigger) for d in deployments] == [
        (SHA1, "ready", "push"),
        (SHA2, "ready", "push"),
    ]
    assert deployments[-1].url == url
    assert (await e2e.environment("production")).current_deployment_id == deployments[-1].id

    [run] = [r for r in e2e.check_runs("AutoStack / production") if r["head_sha"] == SHA2]
    assert run["status"] == "completed" and run["conclusion"] == "success"
    # intermediate states within the reporter's state delay collapse; the outcome always shows
    assert run["_history"][-1] == "completed"
    assert run["_history"] in (
        ["completed"],
        ["in_progress", "completed"],
        ["queued", "in_progress", "completed"],
    )
    assert url in run["output"]["summary"]

    statuses = e2e.github.statuses_for(SHA2, "autostack/production")
    assert [s["state"] for s in statuses] in (["success"], ["pending", "success"])

    [deployment] = [d for d in e2e.github_deployments("production") if d["_request"]["ref"] == SHA2]
    assert deployment["_request"]["production_environment"] is True
    assert deployment["_request"]["transient_environment"] is False
    states = e2e.deployment_states(deployment)
    assert states[-1] == "success"
    # the production Deployment it replaced is inactive (auto_inactive skips production ones)
    [replaced] = [d for d in e2e.github_deployments("production") if d["_request"]["ref"] != SHA2]
    assert e2e.deployment_states(replaced)[-1] == "inactive"
    assert e2e.github.deployment_statuses[deployment["id"]][-1]["environment_url"] == url
