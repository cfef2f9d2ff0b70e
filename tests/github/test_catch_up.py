"""Reporting is eventually consistent: a deployment finishes on time under a rate limit, and
GitHub catches up to its latest state afterwards with only the calls that differ."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.github.app import GitHubApp
from bot.github.budget import LocalBudget
from bot.github.ratelimit import RetryPolicy
from bot.reporter.ledger import MemoryLedger
from bot.reporter.reporter import Reporter
from bot.reporter.sticky import StickyComments
from deployer.events import Finished, LogLine, PhaseStarted, Queued
from store.models import DeploymentLog
from tests.github.seed import REPO, T0, add_deployment, finish_row, seed_environment
from tests.github_standin.fixtures import APP_ID, AppKeys
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State

BASE = "https://autostack.example.com"
SHA = "4" * 40
URL = "http://pr-12--shop.localhost:8080"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def app_with(server: StandInServer, keys: AppKeys, clock: Clock) -> GitHubApp:
    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s inside a deployment")

    return GitHubApp(
        APP_ID,
        keys.private_pem,
        base_url=server.url,
        policy=RetryPolicy(sleep=no_sleep),
        budget=LocalBudget(clock=clock),
    )


def reporter(dep: int, sessions, app: GitHubApp, ledger: MemoryLedger) -> Reporter:
    return Reporter(
        dep,
        sticky=StickyComments(sessions),  # one per process, as the ReporterHub holds it
        sessions=sessions,
        github=app,
        base_url=BASE,
        ledger=ledger,
        now=lambda: T0 + timedelta(minutes=1),
    )


async def test_limited_deploy_finishes_on_time_and_github_catches_up(
    sessions, github_standin: State, github_standin_server: StandInServer, github_app_keys: AppKeys
):
    clock, ledger = Clock(), MemoryLedger()
    app = app_with(github_standin_server, github_app_keys, clock)
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA)
    live = reporter(dep, sessions, app, ledger)
    await live.emit(Queued(dep))
    await live.flush()  # the queued state goes out (the state delay's timer does this)
    before = len(github_standin.calls)

    github_standin.limit(1800, secondary=True)
    started = time.monotonic()
    await live.emit(PhaseStarted(dep, "build", T0))
    for seq in range(200):
        await live.emit(LogLine(dep, seq, T0, f"step {seq}"))
    async with sessions.begin() as session:  # the pipeline stores the log it emits
        session.add_all(DeploymentLog(deployment_id=dep, seq=seq, line=f"step {seq}") for seq in range(200))
    await finish_row(sessions, dep, state="ready", url=URL, build_seconds=12.0)
    await live.emit(Finished(dep, "success", "ready", url=URL))
    assert time.monotonic() - started < 5  # the limit's 30 minutes are not waited here

    # one request found the limit; everything after it waited without asking GitHub
    limited = github_standin.calls[before:]
    assert [c.status for c in limited] == [403]
    [(scheduled_for, wait)] = ledger.scheduled
    assert scheduled_for == dep and 1795 <= wait <= 1802
    [run] = github_standin.check_runs.values()
    assert run["status"] == "queued"

    # the limit is over: the catch-up job renders the deployment from the store
    github_standin.limits.lift()
    clock.now += 1801
    mark = len(github_standin.calls)
    await reporter(dep, sessions, app, ledger).catch_up()
    sent = [c.endpoint for c in github_standin.calls[mark:]]
    assert sorted(sent) == sorted(
        [
            "PATCH /repos/{owner}/{repo}/check-runs/{id}",
            "POST /repos/{owner}/{repo}/statuses/{ref}",
            "POST /repos/{owner}/{repo}/deployments",
            "POST /repos/{owner}/{repo}/deployments/{id}/statuses",
            "POST /repos/{owner}/{repo}/issues/{id}/comments",
        ]
    )
    [run] = github_standin.check_runs.values()
    assert run["_history"] == ["queued", "completed"] and run["conclusion"] == "success"
    assert "step 199" in run["output"]["text"]
    assert [s["state"] for s in github_standin.statuses_for(SHA)] == ["pending", "success"]
    [deployment] = github_standin.deployments.values()
    [status] = github_standin.deployment_statuses[deployment["id"]]
    assert status["state"] == "success" and status["environment_url"] == URL
    [comment] = github_standin.comments_on(REPO, 12)
    assert "✅ Ready" in comment["body"]

    # a second catch-up (another replica's, a duplicate job) finds nothing to send
    mark = len(github_standin.calls)
    await reporter(dep, sessions, app, ledger).catch_up()
    assert github_standin.calls[mark:] == []


async def test_primary_limit_during_queued_report(
    sessions, github_standin: State, github_standin_server: StandInServer, github_app_keys: AppKeys
):
    clock, ledger = Clock(), MemoryLedger()
    app = app_with(github_standin_server, github_app_keys, clock)
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, SHA)
    github_standin.limit(600, secondary=False)
    live = reporter(dep, sessions, app, ledger)
    await live.emit(Queued(dep))
    await finish_row(sessions, dep, state="failed", reason="npm run build exited 1")
    await live.emit(Finished(dep, "failure", "failed", reason="npm run build exited 1"))
    assert github_standin.check_runs == {}
    assert [wait for _, wait in ledger.scheduled] and all(590 <= w <= 602 for _, w in ledger.scheduled)

    github_standin.limits.lift()
    clock.now += 601
    await reporter(dep, sessions, app, ledger).catch_up()
    # nothing intermediate is replayed: the check run is created already completed
    [run] = github_standin.check_runs.values()
    assert run["_history"] == ["completed"] and run["conclusion"] == "failure"
    assert [s["state"] for s in github_standin.statuses_for(SHA)] == ["failure"]
