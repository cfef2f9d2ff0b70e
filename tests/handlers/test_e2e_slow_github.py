"""End to end: GitHub answering slowly does not slow a deployment down. It goes live in its
own time, and GitHub gets every report afterwards, in order."""

from __future__ import annotations

import time

from tests.handlers.doubles import push
from tests.handlers.e2e_harness import E2E

SHA = "5" * 40
SLOW = 4.0  # seconds for each check-run call: long enough that a loaded CI machine keeps the margins


async def test_a_deployment_goes_live_while_github_is_still_being_told(e2e: E2E):
    page = e2e.commit(SHA)
    e2e.github.answer_slowly("POST", r"/check-runs$", SLOW)
    e2e.github.answer_slowly("PATCH", r"/check-runs/\d+$", SLOW)
    response = await e2e.post("push", push(sha=SHA))
    await e2e.intake.wait_for_job(response.json()["delivery"])
    await e2e.intake.run_worker_until_idle()

    await e2e.run_deploy_worker()
    built = time.time()
    [deployment] = await e2e.deployments("production")
    assert deployment.state == "ready" and deployment.finished_at is not None
    # the job ended with the deployment, not with GitHub's answers
    assert built - deployment.finished_at.timestamp() < SLOW / 2
    assert (await e2e.get("production")).text == page
    runs = e2e.check_runs("AutoStack / production")
    assert all(run["status"] != "completed" for run in runs), "the build waited for GitHub"

    await e2e.runtime.hub.drained()
    check_calls = e2e.github.calls_to("POST", r"/check-runs$") + e2e.github.calls_to("PATCH", r"/check-runs/")
    assert max(call.at for call in check_calls) - built > SLOW * 0.75
    [run] = e2e.check_runs("AutoStack / production")
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert run["_history"] in (
        ["completed"],
        ["in_progress", "completed"],
        ["queued", "in_progress", "completed"],
    )
    statuses = e2e.github.statuses_for(SHA, "autostack/production")
    assert [s["state"] for s in statuses] in (["success"], ["pending", "success"])
    [github_deployment] = e2e.github_deployments("production")
    assert e2e.deployment_states(github_deployment)[-1] == "success"
    assert e2e.github.violations == []
