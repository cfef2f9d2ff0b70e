"""End to end: "Re-run all checks" on AutoStack's check suite redeploys the suite's commit in
every environment it reported, and GitHub shows new check runs, statuses and Deployments."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import payload
from tests.handlers.doubles import pull_request, push, validated
from tests.handlers.e2e_harness import BOT_LOGIN, E2E

OLDER = "0c" * 20


def rerun_all(sender: str = "Codertocat") -> dict[str, Any]:
    """The real `check_suite.rerequested`, as a person clicking "Re-run all checks" on the suite
    of AutoStack's installation (the fixture's is another App's installation and its bot)."""
    body = copy.deepcopy(payload("check_suite/rerequested"))
    body["installation"] = copy.deepcopy(push()["installation"])
    body["sender"] = {**copy.deepcopy(push()["sender"]), "login": sender}
    return validated("check_suite", "rerequested", body)


SUITE_SHA = rerun_all()["check_suite"]["head_sha"]


async def deploy_suite_commit(e2e: E2E) -> None:
    """Production at an older commit, then the suite's commit in production and in PR #2's preview."""
    e2e.commit(OLDER)
    e2e.commit(SUITE_SHA)
    await e2e.deliver("push", push(sha=OLDER, pushed_at=1_700_000_000))
    await e2e.deliver("push", push(sha=SUITE_SHA, pushed_at=1_700_000_060))
    await e2e.deliver(
        "pull_request", pull_request("opened", sha=SUITE_SHA, updated_at="2024-01-01T10:00:00Z")
    )


def runs_at(e2e: E2E, environment: str, sha: str) -> list[dict[str, Any]]:
    return [run for run in e2e.check_runs(f"AutoStack / {environment}") if run["head_sha"] == sha]


async def test_rerun_all_checks_redeploys_the_commit_in_each_environment_it_reported(e2e: E2E):
    e2e.grant("Codertocat", "maintain")
    await deploy_suite_commit(e2e)
    before = len(e2e.github.calls_to("POST", r"/check-runs$"))
    assert before == 3

    await e2e.deliver("check_suite", rerun_all())

    # one new check run per environment the suite reported, none for the older commit
    assert len(e2e.github.calls_to("POST", r"/check-runs$")) == before + 2
    # previews are reported under the one `Preview` GitHub Environment
    for environment, github_environment in (("production", "production"), ("pr-2", "Preview")):
        first, again = runs_at(e2e, environment, SUITE_SHA)
        assert first["id"] != again["id"]
        assert (again["status"], again["conclusion"]) == ("completed", "success")
        assert e2e.url(environment) in again["output"]["summary"]
        deployments = [
            d for d in e2e.github_deployments(github_environment) if d["_request"]["ref"] == SUITE_SHA
        ]
        assert len(deployments) == 2 and e2e.deployment_states(deployments[-1])[-1] == "success"
    assert len(runs_at(e2e, "production", OLDER)) == 1
    assert e2e.github.statuses_for(SUITE_SHA, "autostack/production")[-1]["state"] == "success"

    redeployed = [d for d in await e2e.deployments() if d.trigger == "command"]
    assert sorted((d.environment, d.commit_sha, d.actor, d.state) for d in redeployed) == [
        ("pr-2", SUITE_SHA, "Codertocat", "ready"),
        ("production", SUITE_SHA, "Codertocat", "ready"),
    ]
    production = await e2e.environment("production")
    assert production.current_deployment_id == max(d.id for d in redeployed if d.environment == "production")


async def test_rerun_all_checks_needs_the_same_permission_as_redeploy(e2e: E2E):
    e2e.grant("Codertocat", "maintain")
    await deploy_suite_commit(e2e)
    e2e.grant("reader", "read")
    check_runs = len(e2e.github.calls_to("POST", r"/check-runs$"))

    await e2e.deliver("check_suite", rerun_all(sender="reader"))

    assert len(e2e.github.calls_to("POST", r"/check-runs$")) == check_runs
    assert [d for d in await e2e.deployments() if d.trigger == "command"] == []
    refusals = [
        c["body"]
        for c in e2e.github.comments_on("Codertocat/Hello-World", 2)
        if c["user"]["login"] == BOT_LOGIN
    ]
    assert any("@reader" in body and "read access" in body for body in refusals)


async def test_rerun_all_checks_of_a_commit_autostack_never_reported_does_nothing(e2e: E2E):
    e2e.grant("Codertocat", "maintain")
    e2e.commit(OLDER)
    await e2e.deliver("push", push(sha=OLDER, pushed_at=1_700_000_000))
    calls = len(e2e.github.calls)

    await e2e.deliver("check_suite", rerun_all())

    assert [c for c in e2e.github.calls[calls:] if c.method != "GET"] == []
    assert len(await e2e.deployments()) == 1
