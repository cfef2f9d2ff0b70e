"""End to end: a merge queue's `checks_requested` gets AutoStack's checks, passed, on its commit."""

from __future__ import annotations

import copy

from bot.worker.merge_queue import SUMMARY
from tests.conftest import payload
from tests.handlers.doubles import REPO, validated
from tests.handlers.e2e_harness import E2E


def checks_requested(base_ref: str = "refs/heads/master") -> dict:
    """GitHub's real `merge_group.checks_requested`, moved to Codertocat/Hello-World (the
    repository of the other fixtures; its default branch is master)."""
    body = copy.deepcopy(payload("merge_group/checks_requested"))
    body["repository"] = copy.deepcopy(payload("pull_request/opened")["repository"])
    body["merge_group"]["base_ref"] = base_ref
    return validated("merge_group", "checks_requested", body)


async def test_the_queue_commit_gets_a_passed_check_run_and_status(e2e: E2E):
    body = checks_requested()
    head_sha = body["merge_group"]["head_sha"]
    await e2e.deliver("merge_group", body)

    [run] = e2e.check_runs("AutoStack / production")
    assert run["head_sha"] == head_sha
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert SUMMARY in run["output"]["summary"]
    [status] = e2e.github.statuses_for(head_sha, "autostack/production")
    assert status["state"] == "success" and status["description"] == SUMMARY
    # nothing was built or deployed for the queue's temporary commit
    assert await e2e.deployments() == []
    assert e2e.github.calls_to("GET", r"/tarball/") == []


async def test_a_group_into_a_branch_that_deploys_nowhere_reports_nothing(e2e: E2E):
    await e2e.deliver("merge_group", checks_requested("refs/heads/release"))
    assert e2e.github.check_runs == {}
    assert e2e.github.calls_to("POST", r"/statuses/") == []


async def test_a_listed_branch_reports_its_environment(e2e: E2E):
    e2e.github.add_file(REPO, "autostack.yml", "branches: [release]\n")
    body = checks_requested("refs/heads/release")
    await e2e.deliver("merge_group", body)
    [run] = e2e.check_runs("AutoStack / branch-release")
    assert run["head_sha"] == body["merge_group"]["head_sha"] and run["conclusion"] == "success"
