"""The reporter's queue: each deployment's events in order, deployments side by side, waiting
log lines sent as one, failures logged and passed over, what is queued sent before stopping."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.github.app import GitHubApp
from bot.reporter.hub import ReporterHub
from bot.reporter.lanes import Lanes
from bot.reporter.ledger import MemoryLedger
from deployer.events import DeployEvent, EnvironmentDestroyed, Finished, LogLine, PhaseStarted, Queued
from tests.github.seed import T0, add_deployment, finish_row, seed_environment
from tests.github_standin.state import State


class Recorder:
    """A report that records what it was given; deployments in `stuck` wait for `release`."""

    def __init__(self, stuck: set[int] | None = None) -> None:
        self.reported: list[DeployEvent] = []
        self.stuck = stuck or set()
        self.release = asyncio.Event()

    async def __call__(self, event: DeployEvent) -> None:
        if getattr(event, "deployment_id", None) in self.stuck:
            await self.release.wait()
        self.reported.append(event)

    def of(self, deployment_id: int) -> list[DeployEvent]:
        return [e for e in self.reported if getattr(e, "deployment_id", None) == deployment_id]


def line(deployment_id: int, seq: int, text: str) -> LogLine:
    return LogLine(deployment_id, seq, T0, text)


async def test_each_deployment_keeps_its_order_and_a_stuck_one_holds_back_no_other():
    report = Recorder(stuck={1})
    lanes = Lanes(report)
    for deployment_id in (1, 2):
        lanes.put(Queued(deployment_id))
        lanes.put(PhaseStarted(deployment_id, "build", T0))
        lanes.put(Finished(deployment_id, "success", "ready"))
    assert await lanes.drained(0.5) == [1]
    assert report.of(2) == [Queued(2), PhaseStarted(2, "build", T0), Finished(2, "success", "ready")]
    assert report.of(1) == []

    report.release.set()
    assert await lanes.drained(1) == []
    assert report.of(1) == [Queued(1), PhaseStarted(1, "build", T0), Finished(1, "success", "ready")]


async def test_log_lines_that_wait_go_out_as_one_event_with_every_line():
    report = Recorder(stuck={1})
    lanes = Lanes(report)
    lanes.put(PhaseStarted(1, "build", T0))
    for seq in range(1, 1001):
        lanes.put(line(1, seq, f"line {seq}"))
    lanes.put(Finished(1, "success", "ready"))
    lanes.put(line(1, 1001, "after"))
    report.release.set()
    await lanes.drained(1)

    started, merged, finished, after = report.of(1)
    assert started == PhaseStarted(1, "build", T0) and finished == Finished(1, "success", "ready")
    assert isinstance(merged, LogLine) and merged.seq == 1000
    assert merged.text.split("\n") == [f"line {seq}" for seq in range(1, 1001)]
    assert after == line(1, 1001, "after")


async def test_a_failed_report_is_logged_with_its_deployment_and_the_next_event_still_goes(caplog):
    reported: list[DeployEvent] = []

    async def report(event: DeployEvent) -> None:
        if isinstance(event, Queued):
            raise RuntimeError("database went away")
        reported.append(event)

    lanes = Lanes(report)
    lanes.put(Queued(7))
    lanes.put(Finished(7, "success", "ready"))
    with caplog.at_level(logging.ERROR, "autostack.reporter"):
        await lanes.drained(1)
    [failed] = caplog.records
    assert failed.getMessage() == "reporting Queued of deployment 7 failed"
    assert failed.deployment_id == 7  # type: ignore[attr-defined]
    assert reported == [Finished(7, "success", "ready")]


async def test_an_environment_gone_is_reported_after_what_was_queued_before_it():
    report = Recorder(stuck={1})
    lanes = Lanes(report)
    lanes.put(Finished(1, "success", "ready"))
    lanes.put(EnvironmentDestroyed(3, "pr-2"))
    lanes.put(Queued(2))
    await lanes.drained(0.3)
    assert report.reported == [Queued(2)]

    report.release.set()
    await lanes.drained(1)
    assert report.reported == [Queued(2), Finished(1, "success", "ready"), EnvironmentDestroyed(3, "pr-2")]


async def test_closing_sends_what_is_queued_and_names_what_it_could_not():
    report = Recorder(stuck={1})
    lanes = Lanes(report)
    lanes.put(Finished(1, "success", "ready"))
    lanes.put(Finished(2, "failure", "failed"))
    assert await lanes.close(0.3) == [1]
    assert report.reported == [Finished(2, "failure", "failed")]

    lanes.put(Queued(3))  # after closing: not reported
    await asyncio.sleep(0.05)
    assert report.reported == [Finished(2, "failure", "failed")] and lanes.busy() == []


async def no_secrets(project_id: int) -> tuple[str, ...]:
    return ()


async def test_the_hub_returns_at_once_and_leaves_what_it_could_not_send_to_the_catch_up_job(
    sessions, github_app: GitHubApp, github_standin: State
):
    dep = await add_deployment(sessions, await seed_environment(sessions), "1" * 40)
    github_standin.answer_slowly("POST", r"/check-runs$", 2.0)
    ledger = MemoryLedger()
    hub = ReporterHub(
        sessions, github_app, "https://autostack.example.com", no_secrets, ledger=ledger, drain_seconds=0.3
    )

    started = time.monotonic()
    await hub.emit(Queued(dep))
    await finish_row(sessions, dep, state="ready")
    await hub.emit(Finished(dep, "success", "ready"))
    assert time.monotonic() - started < 0.5  # GitHub takes 2 s to create the check run

    await hub.close()
    assert ledger.scheduled == [(dep, 0)]
