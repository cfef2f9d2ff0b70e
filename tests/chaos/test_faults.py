"""Faults under a burst of signed deliveries, with real PostgreSQL, Redis, `autostack serve` and
the delivery worker as processes: every acknowledged delivery is handled, once, soon after the
fault clears.

The burst is CHAOS_BURST deliveries (300 here, so the four faults fit in CI on a shared
machine); bench/chaos/run.sh runs the same faults with 2,000.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.faults import postgres_restarted, redis_stopped, serve_killed_mid_deploy, worker_killed
from tests.chaos.stack import Figures, Stack, stack
from tests.servers import postgres_bin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed; CI always has it"),
]

BURST = int(os.environ.get("CHAOS_BURST", "300"))
# arq runs at most this many jobs of one worker at once: the most a kill can cut off mid-handler
MAX_JOBS = 10


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Stack]:
    with stack(tmp_path) as started:
        yield started


def _assert_none_lost_or_doubled(figures: Figures, stack: Stack) -> None:
    print(figures.line())
    tail = f"\nworker:\n{stack.worker.log_tail()}\nserve:\n{stack.serve.log_tail()}"
    assert figures.acknowledged > 0
    assert figures.stored == figures.acknowledged, tail
    assert figures.lost == 0, tail
    assert figures.processed == figures.acknowledged
    assert figures.handled_twice == 0
    assert figures.recovery_seconds < 60, tail


def test_redis_stopped_for_10_s(running: Stack):
    figures = redis_stopped(running, BURST)
    _assert_none_lost_or_doubled(figures, running)
    assert figures.rerun_after_kill == 0
    assert figures.extra["readyz_in_outage"] == "[503]"
    assert int(figures.extra["queued_in_outage"]) > 0
    # work queued while Redis was away starts within 10 s of its return
    assert float(figures.extra["first_start_after_recovery"].rstrip("s")) < 10


def test_postgres_restarted(running: Stack):
    figures = postgres_restarted(running, BURST)
    _assert_none_lost_or_doubled(figures, running)
    assert figures.rerun_after_kill == 0


def test_worker_killed_with_9(running: Stack):
    figures = worker_killed(running, BURST)
    _assert_none_lost_or_doubled(figures, running)
    # only a handler the kill cut off before its outcome was stored may run again
    assert figures.rerun_after_kill <= MAX_JOBS


def test_serve_killed_with_9_mid_deploy(running: Stack):
    figures = serve_killed_mid_deploy(running, BURST)
    _assert_none_lost_or_doubled(figures, running)
    assert figures.rerun_after_kill == 0
    # the killed serve's build was reaped, and its deployment did not stay "building"
    assert figures.extra["orphaned_builds"] == "0"
    state, seconds = figures.extra["deployment"].split()[:2]
    assert state == "failed" and float(seconds.rstrip("s")) < 60
