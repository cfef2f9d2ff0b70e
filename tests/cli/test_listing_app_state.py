"""`autostack ls` shows a live build whose app is in trouble by that trouble, with its reason (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cli.listing import cells, shown_state

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ROW = {
    "id": 7,
    "project": "shop",
    "environment": "production",
    "state": "ready",
    "live": True,
    "environment_state": "active",
    "created_at": "2026-12-02T09:00:00+00:00",
    "finished_at": "2026-12-02T09:01:00+00:00",
    "url": "http://shop.localhost:8080",
    "reason": None,
}


@pytest.mark.parametrize(
    ("extra", "state"),
    [
        ({"app_state": "live"}, "ready"),
        ({"app_state": "crashed"}, "crashed"),
        ({"app_state": "unhealthy"}, "unhealthy"),
        ({"app_state": None}, "ready"),
        ({"app_state": "crashed", "live": False}, "superseded"),  # an old build's crash is history
    ],
)
def test_shown_state(extra, state):
    assert shown_state({**ROW, **extra}) == state


def test_a_crashed_row_says_why_instead_of_the_url():
    row = {**ROW, "app_state": "crashed", "app_state_reason": "the app exited with code 1, 2 times"}
    assert cells(row, NOW)[4] == "crashed"
    assert cells(row, NOW)[-1] == "the app exited with code 1, 2 times"
    assert cells({**ROW, "app_state": "live"}, NOW)[-1] == "http://shop.localhost:8080"
