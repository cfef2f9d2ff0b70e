"""The figures /metrics reads at scrape time move with real work: queue backlogs, the shared
GitHub budget, and phase durations timed from the deployer's events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.metrics_scrape import refresh
from bot.phase_timer import PhaseTimer
from bot.services import Services
from deployer.events import Finished, LogLine, PhaseStarted
from tests.conftest import Backend
from tests.metrics_text import metric

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


async def test_queue_backlog_and_budget_move_with_work(backend: Backend, tmp_path):
    services = Services.build(backend.settings(tmp_path), backend.redis_url)
    try:
        await refresh(services)
        idle = services.metrics.render().decode()
        assert metric(idle, "autostack_queue_depth", queue="deliveries") == 0
        assert "autostack_github_budget_remaining{" not in idle

        queue = await services.queue()
        await queue.enqueue("handle_delivery", "d-1", job_id="d-1")
        await queue.enqueue("run_deployment", 7, job_id="deployment-7")
        await asyncio.sleep(1.1)
        assert await services.budget.reserve(4242, "call-1", content=True) == 0
        await refresh(services)
        busy = services.metrics.render().decode()
    finally:
        await services.close()
    assert metric(busy, "autostack_queue_depth", queue="deliveries") == 1
    assert metric(busy, "autostack_queue_depth", queue="deploys") == 1
    assert metric(busy, "autostack_queue_oldest_seconds", queue="deliveries") >= 1
    assert metric(busy, "autostack_github_budget_remaining", installation="4242", window="minute") == 79
    assert metric(busy, "autostack_github_budget_remaining", installation="4242", window="hour") == 499
    assert metric(busy, "autostack_github_blocked_seconds", installation="4242") == 0
    assert metric(busy, "autostack_deployments", state="queued") == 0


@pytest.mark.parametrize(
    ("events", "observed"),
    [
        ([PhaseStarted(1, "source", T0)], {}),
        (
            [PhaseStarted(1, "source", T0), PhaseStarted(1, "build", T0 + timedelta(seconds=3))],
            {"source": 3.0},
        ),
        (
            [
                PhaseStarted(1, "source", T0),
                PhaseStarted(2, "source", T0 + timedelta(seconds=1)),
                LogLine(1, 1, T0, "x"),
                PhaseStarted(1, "build", T0 + timedelta(seconds=2)),
                PhaseStarted(2, "build", T0 + timedelta(seconds=6)),
            ],
            {"source": 7.0},  # 2 s + 5 s, each deployment timed on its own
        ),
    ],
)
def test_phase_timer_observes_each_phase_when_the_next_starts(events, observed):
    registry = CollectorRegistry()
    seconds = Histogram("phase_seconds", "", ["phase"], registry=registry)
    timer = PhaseTimer(seconds, Counter("finished", "", ["state"], registry=registry))
    for event in events:
        timer.observe(event)
    sums = {
        s.labels["phase"]: s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "phase_seconds_sum"
    }
    assert sums == observed


def test_a_finished_deployment_closes_its_phase_and_counts_its_state():
    registry = CollectorRegistry()
    seconds = Histogram("phase_seconds", "", ["phase"], registry=registry)
    timer = PhaseTimer(seconds, Counter("finished", "", ["state"], registry=registry))
    timer.observe(PhaseStarted(1, "health", datetime.now(UTC) - timedelta(seconds=2)))
    timer.observe(Finished(1, "failure", "failed", "health failed"))
    assert 2 <= registry.get_sample_value("phase_seconds_sum", {"phase": "health"}) < 10
    assert registry.get_sample_value("finished_total", {"state": "failed"}) == 1
