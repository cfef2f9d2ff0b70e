"""The client's reads for `deploy.after: checks` against the stand-in: every page, 404s, and
only the documented query parameters (the stand-in refuses others)."""

from __future__ import annotations

from bot.github.app import GitHubApp
from handlers.ports import CommitCheck
from tests.github_standin.ci import ci_check_run, ci_status
from tests.github_standin.openapi import github_openapi
from tests.github_standin.state import State

REPO = "octo-org/shop"
SHA = "3f2a9c1e" * 5


async def test_every_page_of_a_commits_checks_is_read(github_app: GitHubApp, github_standin: State):
    spec = github_openapi()
    for n in range(130):
        ci_check_run(github_standin, spec, REPO, SHA, f"job-{n:03}", "success")
    ci_check_run(github_standin, spec, REPO, SHA, "job-007", "failure")  # a later run of the same job
    for n in range(101):
        ci_status(github_standin, spec, REPO, SHA, f"ci/{n:03}", "success")
    ci_status(github_standin, spec, REPO, SHA, "ci/000", "pending")

    checks = await github_app.installation(1).list_commit_checks(REPO, SHA)

    runs = {c.name: c for c in checks if c.name.startswith("job-")}
    contexts = {c.name: c for c in checks if c.name.startswith("ci/")}
    assert len(runs) == 130 and runs["job-007"] == CommitCheck("job-007", "completed", "failure")
    assert len(contexts) == 101 and contexts["ci/000"] == CommitCheck("ci/000", "pending", None)
    pages = [c.query.get("page") for c in github_standin.calls_to("GET", r"/commits/.*/check-runs$")]
    assert pages == ["1", "2"]
    assert len(github_standin.calls_to("GET", r"/commits/.*/status$")) == 2
    assert not github_standin.violations


async def test_required_checks_come_from_rulesets_and_branch_protection(
    github_app: GitHubApp, github_standin: State
):
    github_standin.branches[REPO] = {"main"}
    github_standin.require_checks(REPO, "main", ruleset=["test", "build"], protection=["lint", "test"])
    client = github_app.installation(1)
    assert await client.list_required_checks(REPO, "main") == ["build", "lint", "test"]
    # a branch that does not exist (yet): the rules that would apply, no protection
    github_standin.require_checks(REPO, "next", ruleset=["test"])
    assert await client.list_required_checks(REPO, "next") == ["test"]
    assert not github_standin.violations
