"""The faults, each injected into a running Stack under a burst of signed deliveries; each
returns the run's Figures (tests/chaos asserts on them, bench/chaos prints them)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.chaos.deploys import DeployUnderway
from tests.chaos.stack import Burst, Figures, Stack

REDIS_OUTAGE = 10.0


def _finish(stack: Stack, fault: str, burst: Burst, recovered: float, **extra: str) -> Figures:
    burst.join()
    took = stack.wait_until_finished(list(burst.acknowledged), recovered)
    answers = ",".join(f"{k}:{v}" for k, v in sorted(burst.answers.items()))
    return stack.figures(fault, burst, took, answers=answers, **extra)


def redis_stopped(stack: Stack, count: int) -> Figures:
    """Redis stopped for 10 s while the burst goes on, then started empty on the same port (the
    jobs queued before the outage are lost with it)."""
    burst = Burst(stack.base, count).start()
    burst.wait_sent(count // 4)
    stack.redis.stop()
    stopped, stopped_at = time.monotonic(), time.time()
    readyz: set[int] = set()
    while time.monotonic() - stopped < REDIS_OUTAGE:
        if time.monotonic() - stopped > 2:  # the loops notice within their poll interval
            readyz.add(httpx.get(f"{stack.base}/readyz", timeout=5).status_code)
        time.sleep(0.5)
    stack.redis.start()
    recovered, recovered_at = time.monotonic(), time.time()
    figures = _finish(stack, "redis-stopped-10s", burst, recovered, readyz_in_outage=str(sorted(readyz)))
    # work queued during the outage: how soon after Redis returned it started
    runs = stack.effects_by_delivery()
    during = [d for d, at in burst.acknowledged.items() if stopped_at < at < recovered_at and d in runs]
    starts = sorted(runs[d][0].at - recovered_at for d in during)
    figures.extra.update(
        queued_in_outage=str(len(during)),
        first_start_after_recovery=f"{starts[0]:.1f}s" if starts else "-",
        all_started_after_recovery=f"{starts[-1]:.1f}s" if starts else "-",
    )
    return figures


def postgres_restarted(stack: Stack, count: int) -> Figures:
    """PostgreSQL stopped (every connection cut) and started again in the middle of the burst."""
    burst = Burst(stack.base, count).start()
    burst.wait_sent(count // 3)
    stack.postgres.stop()
    stack.postgres.start()
    return _finish(stack, "postgres-restarted", burst, time.monotonic())


def worker_killed(stack: Stack, count: int) -> Figures:
    """`kill -9` of the delivery worker while it works through the burst, then a new one."""
    burst = Burst(stack.base, count).start()
    _wait_for(lambda: len(stack.effects_by_delivery()) >= count // 4, "the worker never got going")
    stack.worker.kill9()
    stack.worker.start()
    return _finish(stack, "worker-kill-9", burst, time.monotonic())


def serve_killed_mid_deploy(stack: Stack, count: int) -> Figures:
    """`kill -9` of `serve` while a deployment builds and the burst goes on, then a new serve."""
    deploy = DeployUnderway(stack).start()
    before = Burst(stack.base, count // 2).start()
    before.wait_sent(count // 4)
    stack.serve.kill9()
    killed = time.monotonic()
    before.join()  # the rest of it finds nobody listening: not acknowledged, GitHub redelivers
    stack.serve.start()  # answers 200 on /readyz only after it reaped the killed one's orphans
    recovered = time.monotonic()
    burst = Burst(stack.base, count - count // 2)
    burst.acknowledged.update(before.acknowledged)
    burst.answers.update(before.answers)
    burst.start()
    figures = _finish(stack, "serve-kill-9-mid-deploy", burst, recovered)
    ended, state = deploy.wait_ended(since=killed, limit=60)
    figures.extra.update(
        serve_down=f"{recovered - killed:.1f}s",
        deployment=f"{state} {ended:.1f}s after the kill",
        orphaned_builds=str(deploy.builds_alive()),
    )
    return figures


def _wait_for(condition: Callable[[], bool], why: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, why
        time.sleep(0.05)


FAULTS: dict[str, Callable[[Stack, int], Figures]] = {
    "redis": redis_stopped,
    "postgres": postgres_restarted,
    "worker": worker_killed,
    "serve": serve_killed_mid_deploy,
}
