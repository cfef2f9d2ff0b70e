"""End to end: a preview that crashes after go-live turns its GitHub Deployment to error, then
failure in a restart loop, its sticky comment to Crashed, and both back once it is healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.reporter.comment import MARKER
from deployer.targets.local.router import hostname_for
from tests.handlers.doubles import REPO, pull_request
from tests.handlers.e2e_harness import BASE_URL, E2E, PROJECT
from tests.runtime_app import FILES

SHA = "d4" * 20


async def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def sticky(e2e: E2E) -> str:
    [comment] = [c for c in e2e.github.comments_on(REPO, 2) if c["body"].startswith(MARKER)]
    return comment["body"]


async def test_a_crash_loop_is_reported_on_github_and_recovery_too(e2e: E2E):
    e2e.target.watch_interval = 0.2
    e2e.commit(SHA, FILES)
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA))
    assert (await e2e.get("pr-2")).text == "hello"
    [github_deployment] = e2e.github_deployments("Preview")
    statuses = e2e.github.deployment_statuses[github_deployment["id"]]
    assert [s["state"] for s in statuses][-1] == "success"
    told = len(statuses)

    supervisor = e2e.target.live[hostname_for(PROJECT, "pr-2")].supervisor
    crash_file = supervisor.cwd / "crash-at-start"
    crash_file.write_text("fail every start")
    assert (await e2e.get("pr-2", "/crash")).status_code == 502

    await until(lambda: [s["state"] for s in statuses[told:]] == ["error", "failure"], 10, "error, failure")
    error, failure = statuses[told:]
    assert error["description"].startswith("Restarting since ")
    assert "the app exited with code 3; restarting it; last line: crashing on purpose" in error["description"]
    assert failure["description"].startswith("Crashed since ")
    assert "exited with code 4, 2 times since it was last healthy" in failure["description"]
    runtime_page = f"{BASE_URL}/projects/{PROJECT}/environments/pr-2/runtime"
    assert error["log_url"] == failure["log_url"] == runtime_page
    await until(lambda: "💥 Crashed" in sticky(e2e), 5, "the comment says crashed")
    assert e2e.url("pr-2") not in sticky(e2e)  # no link to an app that does not answer

    crash_file.unlink()
    await until(lambda: statuses[-1]["state"] == "success", 15, "success again")
    assert statuses[-1]["description"] == f"Healthy again; live at {e2e.url('pr-2')}"
    assert statuses[-1]["environment_url"] == e2e.url("pr-2")
    await until(lambda: "✅ Ready" in sticky(e2e), 5, "the comment says ready")
    assert e2e.url("pr-2") in sticky(e2e)
    assert (await e2e.get("pr-2")).text == "hello"
