"""A deployment's life as GitHub shows it: check run, commit status, Deployment, PR comment."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bot.github.app import GitHubApp
from bot.reporter.comment import MARKER
from bot.reporter.reporter import Reporter
from bot.reporter.sticky import StickyComments
from deployer.events import EnvironmentDestroyed, Finished, LogLine, PhaseStarted, Queued
from deployer.masking import Masker
from tests.github.seed import REPO, T0, add_deployment, finish_row, seed_environment
from tests.github_standin.comments import add_comment
from tests.github_standin.state import State

BASE = "https://autostack.example.com"
SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def reporter(deployment_id, sessions, app, **kwargs) -> Reporter:
    return Reporter(
        deployment_id,
        sessions=sessions,
        github=app,
        base_url=BASE,
        now=lambda: T0 + timedelta(minutes=1),
        **kwargs,
    )


async def run_deployment(
    rep: Reporter,
    deployment_id: int,
    lines: list[str],
    final: Finished,
    sessions,
    clock: FakeClock | None = None,
    step: float = 0.0,
    **row,
) -> None:
    await rep.emit(Queued(deployment_id))
    await rep.emit(PhaseStarted(deployment_id, "source", T0))
    await rep.emit(PhaseStarted(deployment_id, "build", T0))
    for seq, text in enumerate(lines):
        if clock is not None:
            clock.now += step
        await rep.emit(LogLine(deployment_id, seq, T0, text))
    await finish_row(sessions, deployment_id, **row)
    await rep.emit(final)


async def test_successful_preview(sessions, github_app: GitHubApp, github_standin: State):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    url = "http://pr-12--shop.localhost:8080"
    await run_deployment(
        reporter(dep, sessions, github_app),
        dep,
        ["installing", "built in 48 s", "ready"],
        Finished(dep, "success", "ready", url=url, facts={"cache": "92 %"}),
        sessions,
        state="ready",
        url=url,
        framework="Next.js",
        framework_reason="found `next` in package.json",
        build_seconds=48.0,
        artifact="local:/builds/shop/1",
    )

    [run] = github_standin.check_runs.values()
    assert run["name"] == "AutoStack / pr-12" and run["head_sha"] == SHA1
    # a run over within the state delay costs one report: its outcome
    assert run["_history"] == ["completed"]
    assert run["conclusion"] == "success"
    assert run["details_url"] == f"{BASE}/deployments/{dep}" and run["external_id"] == str(dep)
    summary = run["output"]["summary"]
    assert f"### ✅ pr-12 is live — {url}" in summary
    assert "Next.js (found `next` in package.json)" in summary and "48 s (cache 92 %)" in summary
    assert "local:/builds/shop/1" in summary
    assert run["output"]["text"].rstrip("`\n").endswith("ready")
    assert [a["identifier"] for a in run["_actions"]] == ["redeploy", "promote"]

    statuses = github_standin.statuses_for(SHA1, "autostack/pr-12")
    assert [s["state"] for s in statuses] == ["success"]
    assert statuses[-1]["target_url"] == f"{BASE}/deployments/{dep}"

    [deployment] = github_standin.deployments.values()
    assert deployment["_request"] == {
        "ref": SHA1,
        "environment": "Preview",  # every preview shares one GitHub Environment
        "description": f"AutoStack deployment #{dep}",
        "auto_merge": False,
        "required_contexts": [],
        "transient_environment": True,
        "production_environment": False,
    }
    dstatuses = github_standin.deployment_statuses[deployment["id"]]
    assert [s["state"] for s in dstatuses] == ["success"]
    assert dstatuses[-1]["environment_url"] == url
    assert dstatuses[-1]["log_url"] == f"{BASE}/deployments/{dep}"

    [comment] = github_standin.comments_on(REPO, 12)
    assert comment["body"].startswith(MARKER)
    assert f"| pr-12 | ✅ Ready | {url} | `1111111` | 48 s |" in comment["body"]


async def test_failed_build(sessions, github_app: GitHubApp, github_standin: State):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    log = [
        "> tsc -p .",
        "src/pages/index.tsx(12,5): error TS2322: Type 'string' is not 'number'.",
        "npm ERR! code 2",
        "npm ERR! Lifecycle script `build` failed",
    ]
    reason = "npm run build exited 2"
    await run_deployment(
        reporter(dep, sessions, github_app),
        dep,
        log,
        Finished(dep, "failure", "failed", reason=reason),
        sessions,
        state="failed",
        reason=reason,
    )

    [run] = github_standin.check_runs.values()
    assert run["_history"] == ["completed"]
    assert run["conclusion"] == "failure"
    assert f"### ❌ pr-12 failed — {reason}" in run["output"]["summary"]
    assert "npm ERR! Lifecycle script" in run["output"]["text"]
    assert {(a["path"], a["start_line"]) for a in run["_annotations"]} == {
        ("src/pages/index.tsx", 12),
        ("package.json", 1),
    }
    assert [a["identifier"] for a in run["_actions"]] == ["redeploy"]
    assert [s["state"] for s in github_standin.statuses_for(SHA1)] == ["failure"]
    [deployment] = github_standin.deployments.values()
    assert [s["state"] for s in github_standin.deployment_statuses[deployment["id"]]] == ["failure"]
    [comment] = github_standin.comments_on(REPO, 12)
    assert "❌ Failed" in comment["body"]


async def test_one_sticky_comment_after_several_pushes(sessions, github_app, github_standin):
    env = await seed_environment(sessions)
    add_comment(github_standin, REPO, 12, f"> {MARKER} quoted by a human")
    for sha in (SHA1, SHA2, SHA3):
        dep = await add_deployment(sessions, env, sha)
        # A new reporter per deployment, as in the worker: the comment is found by its marker.
        await run_deployment(
            reporter(dep, sessions, github_app),
            dep,
            ["ok"],
            Finished(dep, "success", "ready", url="http://x"),
            sessions,
            state="ready",
            url="http://x",
        )
    ours = [c for c in github_standin.comments_on(REPO, 12) if c["user"]["type"] == "Bot"]
    assert len(ours) == 1
    assert "`3333333`" in ours[0]["body"] and "`1111111`" not in ours[0]["body"]
    assert len(github_standin.comments_on(REPO, 12)) == 2
    assert len(github_standin.calls_to("POST", r"/issues/12/comments$")) == 1


async def test_shared_sticky_skips_listing(sessions, github_app, github_standin):
    env = await seed_environment(sessions)
    sticky = StickyComments(sessions)
    for sha in (SHA1, SHA2):
        dep = await add_deployment(sessions, env, sha)
        await run_deployment(
            reporter(dep, sessions, github_app, sticky=sticky),
            dep,
            [],
            Finished(dep, "success", "ready"),
            sessions,
            state="ready",
        )
    # the first comment was posted under the claim, which recorded its id: nothing is listed
    assert len(github_standin.calls_to("GET", r"/issues/12/comments$")) == 0
    assert len(github_standin.comments_on(REPO, 12)) == 1


async def test_five_megabyte_log(sessions, github_app, github_standin):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    clock = FakeClock()
    lines = [f"line {n:06d} " + "x" * 90 for n in range(50_000)]
    assert sum(len(line) + 1 for line in lines) >= 5_000_000
    rep = reporter(dep, sessions, github_app, clock=clock, flush_interval=10.0, sleep=no_wait)
    # 0.01 s per line: 500 s of build, so at most one update per 10 s is about 50.
    await run_deployment(
        rep, dep, lines, Finished(dep, "success", "ready"), sessions, clock=clock, step=0.01, state="ready"
    )
    updates = github_standin.calls_to("PATCH", "/check-runs/")
    assert 40 <= len(updates) <= 55
    [run] = github_standin.check_runs.values()
    text = run["output"]["text"]
    assert len(text) <= 65_535
    assert text.rstrip("`\n").endswith(lines[-1])
    assert "earlier lines cut" in text


async def test_secret_never_reaches_github(sessions, github_app, github_standin):
    secret = "s3cr3t-Tok3n-0123456789"
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    log = [
        f"DATABASE_URL=postgres://u:{secret}@db",
        f"token: {secret[:8]}",
        f"{secret[8:]} done",
        '  File "app.py", line 3, in <module>',
        f"ValueError: bad key {secret}",
    ]
    rep = reporter(dep, sessions, github_app, masker=Masker([secret]))
    await run_deployment(
        rep,
        dep,
        log,
        Finished(dep, "failure", "failed", reason=f"crashed with {secret}"),
        sessions,
        state="failed",
    )
    sent = json.dumps([call.body for call in github_standin.calls], ensure_ascii=False)
    assert secret not in sent and secret[:8] not in sent and secret[8:] not in sent
    assert "•••" in sent


async def test_production_buttons_and_flags(sessions, github_app, github_standin):
    env = await seed_environment(sessions, kind="production", pr_number=None)
    dep = await add_deployment(sessions, env, SHA1, pr_number=None)
    await run_deployment(
        reporter(dep, sessions, github_app),
        dep,
        [],
        Finished(dep, "success", "ready", url="http://shop"),
        sessions,
        state="ready",
    )
    [run] = github_standin.check_runs.values()
    assert [a["identifier"] for a in run["_actions"]] == ["redeploy", "rollback"]
    [deployment] = github_standin.deployments.values()
    assert deployment["_request"]["production_environment"] is True
    assert deployment["_request"]["transient_environment"] is False
    assert github_standin.comments == {}


async def test_environment_destroyed(sessions, github_app, github_standin):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    await run_deployment(
        reporter(dep, sessions, github_app),
        dep,
        [],
        Finished(dep, "success", "ready"),
        sessions,
        state="ready",
    )
    await reporter(None, sessions, github_app).emit(EnvironmentDestroyed(env.project_id, "pr-12"))
    [deployment] = github_standin.deployments.values()
    last = github_standin.deployment_statuses[deployment["id"]][-1]
    assert last["state"] == "inactive" and len(last["description"]) <= 140


async def test_github_failure_does_not_raise(sessions, github_app, github_standin, github_sleeps):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    github_standin.fail_next("POST", "/check-runs$", 404, message="Not Found")
    await reporter(dep, sessions, github_app).emit(Queued(dep))
    assert github_standin.check_runs == {}


async def test_a_run_slower_than_the_state_delay_shows_in_progress(sessions, github_app, github_standin):
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA1)
    rep = reporter(dep, sessions, github_app, state_delay=0.05)
    await rep.emit(Queued(dep))
    await rep.emit(PhaseStarted(dep, "source", T0))
    await rep.emit(PhaseStarted(dep, "build", T0))
    await asyncio.sleep(0.5)  # the build runs on; the pending state change goes out meanwhile
    await finish_row(sessions, dep, state="ready")
    await rep.emit(Finished(dep, "success", "ready"))

    [run] = github_standin.check_runs.values()
    # queued and started within the delay: GitHub first hears "in progress"
    assert run["_history"] == ["in_progress", "completed"]
    [deployment] = github_standin.deployments.values()
    # the Deployment is made while the build runs (pending); its one status is the outcome
    assert [s["state"] for s in github_standin.deployment_statuses[deployment["id"]]] == ["success"]
    assert [s["state"] for s in github_standin.statuses_for(SHA1)] == ["pending", "success"]


@pytest.mark.parametrize("kind", ["preview", "production"])
async def test_a_newer_live_deployment_sets_the_older_one_inactive(
    sessions, github_app, github_standin, kind
):
    # GitHub's auto_inactive leaves transient (preview) and production Deployments active
    env = await seed_environment(sessions, kind=kind, pr_number=12 if kind == "preview" else None)
    sticky = StickyComments(sessions)
    for sha in (SHA1, SHA2, SHA3):
        dep = await add_deployment(sessions, env, sha, pr_number=12 if kind == "preview" else None)
        await run_deployment(
            reporter(dep, sessions, github_app, sticky=sticky),
            dep,
            [],
            Finished(dep, "success", "ready", url="http://shop"),
            sessions,
            state="ready",
            ready_at=T0,
        )
    first, second, third = github_standin.deployments.values()
    states = {
        d["sha"]: [s["state"] for s in github_standin.deployment_statuses[d["id"]]]
        for d in (first, second, third)
    }
    assert states == {SHA1: ["success", "inactive"], SHA2: ["success", "inactive"], SHA3: ["success"]}
    [inactive] = [s for s in github_standin.deployment_statuses[first["id"]] if s["state"] == "inactive"]
    assert inactive["description"] == f"Replaced by deployment #{second['description'].split('#')[1]}"


async def test_github_marks_plain_environments_inactive_itself(github_app, github_standin):
    # what the stand-in records for a non-transient, non-production environment: GitHub's own
    client = github_app.installation(1)
    ids = []
    for sha in (SHA1, SHA2):
        ids.append(
            await client.create_deployment(
                REPO, ref=sha, environment="staging", description="d", transient=False, production=False
            )
        )
        await client.create_deployment_status(REPO, ids[-1], state="success", description="live")
    assert [s["state"] for s in github_standin.deployment_statuses[ids[0]]] == ["success", "inactive"]
    assert [s["state"] for s in github_standin.deployment_statuses[ids[1]]] == ["success"]
