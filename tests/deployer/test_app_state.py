"""How exits and health probes move a live app's state (pure), by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deployer.app_state import CRASHED, LIVE, RESTARTING, UNHEALTHY, AppHealth, exited, probed, went_live

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(steps: list[tuple[str, object]]) -> list[AppHealth]:
    health, seen = went_live(T0), []
    for second, (kind, value) in enumerate(steps, start=1):
        if kind == "exit":
            health = exited(health, value, at(second))  # type: ignore[arg-type]
        else:
            health = probed(health, bool(value), "GET / answered 500", at(second))
        seen.append(health)
    return seen


@pytest.mark.parametrize(
    ("steps", "states", "since"),
    [
        ([("probe", True)], [LIVE], 0),
        ([("exit", 1)], [RESTARTING], 1),
        ([("exit", 1), ("probe", True)], [RESTARTING, LIVE], 2),
        ([("exit", 1), ("exit", 4)], [RESTARTING, CRASHED], 1),
        ([("exit", 1), ("exit", 4), ("exit", 4)], [RESTARTING, CRASHED, CRASHED], 1),
        ([("exit", 1), ("exit", 4), ("probe", True)], [RESTARTING, CRASHED, LIVE], 3),
        ([("probe", False), ("probe", False)], [LIVE, LIVE], 0),
        ([("probe", False)] * 3, [LIVE, LIVE, UNHEALTHY], 3),
        ([("probe", False), ("probe", True), ("probe", False), ("probe", False)], [LIVE] * 4, 0),
        ([("probe", False)] * 3 + [("probe", True)], [LIVE, LIVE, UNHEALTHY, LIVE], 4),
        ([("probe", False)] * 3 + [("exit", 1)], [LIVE, LIVE, UNHEALTHY, RESTARTING], 3),
        # a restarting app starting up is judged by its next exit or pass, not by slow probes
        ([("exit", 1)] + [("probe", False)] * 4, [RESTARTING] * 5, 1),
    ],
    ids=[
        "healthy stays live",
        "an exit restarts",
        "a restart that passes is live again",
        "a second exit is a crash loop",
        "the loop stays crashed",
        "a crashed app that passes is live",
        "two failed probes are not yet unhealthy",
        "three failed probes in a row are",
        "a pass in between resets the count",
        "an unhealthy app that passes is live",
        "an unhealthy app that exits restarts, since the trouble began",
        "probes while restarting",
    ],
)
def test_states(steps, states, since):
    seen = run(steps)
    assert [health.state for health in seen] == states
    assert seen[-1].since == at(since)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(3, "the app exited with code 3; restarting it"), (-9, "the app was killed by signal 9; restarting it")],
)
def test_exit_reason_names_the_code_or_signal(code, reason):
    assert exited(went_live(T0), code, T0).reason == reason


def test_crash_loop_and_unhealthy_reasons_say_how_often():
    loop = exited(exited(went_live(T0), 1, at(1)), 4, at(2))
    assert loop.reason == "the app exited with code 4, 2 times since it was last healthy"
    sick = run([("probe", False)] * 3)[-1]
    assert sick.reason == "the health check failed 3 times in a row: GET / answered 500"
