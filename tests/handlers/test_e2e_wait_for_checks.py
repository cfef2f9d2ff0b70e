"""End to end: `deploy.after: checks` builds at once and goes live only once CI passed.

Real CI deliveries (check_run, check_suite, workflow_run, status) go through the intake and
the workers; the stand-in holds the branch's required checks and the commit's CI results
that AutoStack reads back (GitHub's OpenAPI shapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from bot.cli.listing import table
from bot.deploy_wiring import deploy_service
from bot.reporter.comment import MARKER
from bot.serve import serve_app
from bot.web.runtime import build_state
from bot.worker.deploy_jobs import sweep_deployments
from store import check_gates
from tests.github_standin.ci import ci_check_run, ci_status
from tests.github_standin.openapi import github_openapi
from tests.handlers.ci_payloads import (
    check_run_completed,
    check_suite_completed,
    status,
    workflow_run_completed,
)
from tests.handlers.doubles import REPO, pull_request, push
from tests.handlers.e2e_harness import BOT_LOGIN, E2E, PROJECT

SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40
SHA_PR = "b1" * 20
ACTIONS = "deploy:\n  after: checks\n"
JENKINS = "deploy:\n  after: checks\n  checks: [ci/jenkins]\n"


def configure(e2e: E2E, config: str) -> None:
    e2e.github.add_file(REPO, "autostack.yml", config)


def ci(e2e: E2E, sha: str, name: str, conclusion: str) -> None:
    """GitHub Actions reports `name` on `sha` (a repeated name is a re-run)."""
    ci_check_run(e2e.github, github_openapi(), REPO, sha, name, conclusion)


def own_run(e2e: E2E, sha: str) -> dict[str, Any]:
    [run] = [r for r in e2e.check_runs("AutoStack / production") if r["head_sha"] == sha]
    return run


async def listed(e2e: E2E) -> list[dict[str, Any]]:
    """The project's deployments as the API answers `autostack ls`."""
    deploy = deploy_service(e2e.services, e2e.runtime)
    app = serve_app(e2e.services, build_state(e2e.services, deploy, None))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://autostack.test"
    ) as client:
        response = await client.get(
            f"/api/v1/projects/{PROJECT}/deployments",
            headers=await e2e.api_headers(),
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_production_waits_for_required_checks_is_blocked_by_a_failure_and_released_by_a_rerun(e2e: E2E):
    configure(e2e, ACTIONS)
    # one check through a ruleset, one through classic protection; AutoStack's own is never waited for
    e2e.github.require_checks(REPO, "master", ruleset=["test"], protection=["lint", "AutoStack / production"])
    first = e2e.commit(SHA1, {"autostack.yml": ACTIONS})
    await e2e.deliver("push", push(sha=SHA1, pushed_at=1_700_000_000))

    [waiting] = await e2e.deployments("production")
    assert (waiting.state, waiting.reason) == ("waiting", "waits for lint, test to pass")
    assert (
        waiting.artifact and waiting.build_seconds is not None and waiting.cache_hit is not None
    )  # built at once
    assert (await e2e.get("production")).status_code != 200  # nothing live yet
    run = own_run(e2e, SHA1)
    assert run["status"] == "in_progress"
    assert run["output"]["title"] == "production is built and waits for lint, test to pass"
    assert e2e.github.statuses_for(SHA1, "autostack/production")[-1]["description"] == (
        "Built; waits for lint, test to pass"
    )
    assert len(e2e.github.calls_to("GET", r"/rules/branches/master$")) == 1
    assert len(e2e.github.calls_to("GET", rf"/repos/{REPO}/branches/master$")) == 1

    ci(e2e, SHA1, "lint", "success")
    await e2e.deliver("check_run", check_run_completed(SHA1, "lint", "success"))
    [still] = await e2e.deployments("production")
    assert (still.state, still.reason) == ("waiting", "waits for test to pass")
    assert own_run(e2e, SHA1)["output"]["title"] == "production is built and waits for test to pass"

    ci(e2e, SHA1, "test", "success")
    await e2e.deliver("check_suite", check_suite_completed(SHA1, "success"))
    [live] = await e2e.deployments("production")
    assert live.state == "ready"
    # the build's facts stay those of the build
    assert (live.artifact, live.build_seconds, live.cache_hit) == (
        waiting.artifact,
        waiting.build_seconds,
        waiting.cache_hit,
    )
    assert (await e2e.get("production")).text == first
    assert own_run(e2e, SHA1)["conclusion"] == "success"
    assert "the required checks passed: releasing this build" in await e2e.log(live.id)
    assert len(e2e.github.calls_to("GET", r"/tarball/")) == 1  # released, not built again

    second = e2e.commit(SHA2, {"autostack.yml": ACTIONS})
    await e2e.deliver("push", push(sha=SHA2, pushed_at=1_700_000_060))
    ci(e2e, SHA2, "lint", "success")
    ci(e2e, SHA2, "test", "failure")
    await e2e.deliver("workflow_run", workflow_run_completed(SHA2, "failure"))
    blocked = (await e2e.deployments("production"))[-1]
    assert (blocked.commit_sha, blocked.state, blocked.reason) == (
        SHA2,
        "blocked",
        "required check test failed",
    )
    assert (await e2e.get("production")).text == first  # the failing commit never went live
    run = own_run(e2e, SHA2)
    assert run["status"] == "in_progress"
    assert run["output"]["title"] == "production blocked: required check test failed"
    assert "required check test failed" in run["output"]["summary"]
    latest_status = e2e.github.statuses_for(SHA2, "autostack/production")[-1]
    assert (latest_status["state"], latest_status["description"]) == (
        "failure",
        "Blocked: required check test failed",
    )
    [row] = [r for r in await listed(e2e) if r["id"] == blocked.id]
    assert (row["state"], row["reason"]) == ("blocked", "required check test failed")
    header, line = table([row], datetime.now(UTC)).splitlines()
    assert line[header.index("STATE") :].startswith("blocked ")
    assert line.endswith("required check test failed")

    ci(e2e, SHA2, "test", "success")  # "Re-run failed jobs"
    await e2e.deliver("check_run", check_run_completed(SHA2, "test", "success"))
    released = (await e2e.deployments("production"))[-1]
    assert (released.id, released.state) == (blocked.id, "ready")
    assert (await e2e.get("production")).text == second
    assert own_run(e2e, SHA2)["conclusion"] == "success"


async def test_commit_statuses_listed_in_autostack_yml_and_a_push_supersedes_a_waiting_deployment(e2e: E2E):
    configure(e2e, JENKINS)
    e2e.commit(SHA1, {"autostack.yml": JENKINS})
    e2e.commit(SHA2, {"autostack.yml": JENKINS})
    await e2e.deliver("push", push(sha=SHA1, pushed_at=1_700_000_000))
    [first] = await e2e.deployments("production")
    assert (first.state, first.reason) == ("waiting", "waits for ci/jenkins to pass")
    # the list in autostack.yml is used: the branch's rules are not asked for
    assert e2e.github.calls_to("GET", r"/rules/branches/") == []

    ci_status(e2e.github, github_openapi(), REPO, SHA1, "ci/jenkins", "pending")
    await e2e.deliver("status", status(SHA1, "ci/jenkins", "pending"))
    assert [d.state for d in await e2e.deployments("production")] == ["waiting"]

    await e2e.deliver("push", push(sha=SHA2, pushed_at=1_700_000_060))
    superseded, second = await e2e.deployments("production")
    assert (superseded.state, superseded.reason) == ("superseded", f"superseded by deployment {second.id}")
    assert own_run(e2e, SHA1)["conclusion"] == "cancelled"
    assert second.state == "waiting"

    ci_status(e2e.github, github_openapi(), REPO, SHA1, "ci/jenkins", "success")
    await e2e.deliver("status", status(SHA1, "ci/jenkins", "success"))
    assert (await e2e.deployments("production"))[0].state == "superseded"  # the old commit stays replaced

    ci_status(e2e.github, github_openapi(), REPO, SHA2, "ci/jenkins", "error")
    await e2e.deliver("status", status(SHA2, "ci/jenkins", "error"))
    blocked = (await e2e.deployments("production"))[-1]
    assert (blocked.state, blocked.reason) == ("blocked", "required check ci/jenkins failed")
    assert (await e2e.get("production")).status_code != 200

    ci_status(e2e.github, github_openapi(), REPO, SHA2, "ci/jenkins", "success")
    await e2e.deliver("status", status(SHA2, "ci/jenkins", "success"))
    assert (await e2e.deployments("production"))[-1].state == "ready"
    assert SHA2[:7] in (await e2e.get("production")).text


async def test_autostacks_own_reports_decide_nothing_and_cost_no_reads(e2e: E2E):
    configure(e2e, JENKINS)
    e2e.commit(SHA1, {"autostack.yml": JENKINS})
    await e2e.deliver("push", push(sha=SHA1, pushed_at=1_700_000_000))
    await e2e.deliver("status", status(SHA1, "autostack/production", "success"))
    await e2e.deliver("check_run", check_run_completed(SHA1, "AutoStack / production", "success"))
    assert [d.state for d in await e2e.deployments("production")] == ["waiting"]
    assert e2e.github.calls_to("GET", r"/commits/.*/(check-runs|status)$") == []


async def test_a_preview_with_previews_after_checks_shows_the_blocking_check_in_the_sticky_comment(e2e: E2E):
    config = "previews:\n  after: checks\ndeploy:\n  checks: [test]\n"
    configure(e2e, config)
    e2e.commit(SHA_PR, {"autostack.yml": config})
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA_PR))
    ci(e2e, SHA_PR, "test", "cancelled")
    await e2e.deliver("check_run", check_run_completed(SHA_PR, "test", "cancelled"))
    [blocked] = await e2e.deployments("pr-2")
    assert (blocked.state, blocked.reason) == ("blocked", "required check test was cancelled")
    [sticky] = [
        c["body"]
        for c in e2e.github.comments_on(REPO, 2)
        if c["user"]["login"] == BOT_LOGIN and c["body"].startswith(MARKER)
    ]
    assert "| pr-2 | ⛔ Blocked: required check test was cancelled |" in sticky

    ci(e2e, SHA_PR, "test", "success")
    await e2e.deliver("check_run", check_run_completed(SHA_PR, "test", "success"))
    assert (await e2e.deployments("pr-2"))[-1].state == "ready"
    assert SHA_PR[:7] in (await e2e.get("pr-2")).text


async def test_a_release_whose_job_redis_lost_is_queued_again_by_the_sweep(e2e: E2E):
    configure(e2e, JENKINS)
    e2e.commit(SHA1, {"autostack.yml": JENKINS})
    await e2e.deliver("push", push(sha=SHA1, pushed_at=1_700_000_000))
    [parked] = await e2e.deployments("production")
    # the verdict was stored, then Redis lost the release job before a worker took it
    assert await check_gates.record_verdict(e2e.services.sessions, parked.id, "passed", None) == "release"
    ctx = {"services": e2e.services, "deploy": e2e.runtime}
    assert await sweep_deployments(ctx) == 1
    assert await sweep_deployments(ctx) == 0  # queued once
    await e2e.settle()
    assert (await e2e.deployments("production"))[-1].state == "ready"
    assert SHA1[:7] in (await e2e.get("production")).text
