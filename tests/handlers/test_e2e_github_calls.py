"""End to end: the GitHub calls of one successful pull-request preview, counted by route
(issue 13: at most 10 API calls for the whole flow, reporting included)."""

from __future__ import annotations

from collections import Counter

from tests.handlers.doubles import REPO, pull_request
from tests.handlers.e2e_harness import E2E

SHA = "a1" * 20
CODELOAD = "/_codeload/"

# The most each route may be called; a run over within the reporter's state delay skips the
# check run's update and the pending status.
MOST = {
    "POST /app/installations/{id}/access_tokens": 1,
    "GET /repos/{owner}/{repo}/git/trees/{ref}": 1,
    "GET /repos/{owner}/{repo}/tarball/{ref}": 1,
    "POST /repos/{owner}/{repo}/check-runs": 1,
    "PATCH /repos/{owner}/{repo}/check-runs/{id}": 1,
    "POST /repos/{owner}/{repo}/statuses/{ref}": 2,
    "POST /repos/{owner}/{repo}/deployments": 1,
    "POST /repos/{owner}/{repo}/deployments/{id}/statuses": 1,
    "POST /repos/{owner}/{repo}/issues/{id}/comments": 1,
}


async def test_one_preview_costs_at_most_ten_calls(e2e: E2E):
    e2e.commit(SHA)
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA))
    [deployment] = await e2e.deployments("pr-2")
    assert deployment.state == "ready"

    api = Counter(call.endpoint for call in e2e.github.calls if not call.path.startswith(CODELOAD))
    assert sum(api.values()) <= 10, api
    assert api <= Counter(MOST), api - Counter(MOST)
    # the config is looked up once, on the default branch, and the source downloaded once
    [tree] = e2e.github.calls_to("GET", "/git/trees/")
    assert tree.path == f"/repos/{REPO}/git/trees/master"
    assert not e2e.github.calls_to("GET", "/contents/")
    assert len(e2e.github.calls_to("GET", CODELOAD)) == 1

    # everything a user sees is still reported: check run, status, Deployment, comment
    [run] = e2e.check_runs("AutoStack / pr-2")
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert e2e.github.statuses_for(SHA, "autostack/pr-2")[-1]["state"] == "success"
    [github_deployment] = e2e.github_deployments("Preview")
    assert e2e.deployment_states(github_deployment) == ["success"]
    [comment] = e2e.github.comments_on(REPO, 2)
    assert deployment.url in comment["body"]
