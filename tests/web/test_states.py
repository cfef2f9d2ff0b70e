"""What state the page shows for a deployment, and the projects list's sort orders (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.web.project_list import ProjectRow, sort_rows
from bot.web.states import shown_state


@pytest.mark.parametrize(
    ("state", "environment", "current", "shown"),
    [
        ("ready", "active", True, "ready"),
        ("ready", "active", False, "superseded"),
        ("ready", "destroyed", False, "destroyed"),
        ("ready", None, False, "superseded"),
        ("failed", "destroyed", False, "failed"),
        ("cancelled", "destroyed", False, "cancelled"),
        ("building", "active", False, "building"),
    ],
)
def test_shown_state(state: str, environment: str | None, current: bool, shown: str):
    assert shown_state(state, environment, current) == shown


def _row(name: str, state: str | None, day: int | None) -> ProjectRow:
    when = datetime(2024, 1, day, tzinfo=UTC) if day else None
    return ProjectRow(name, None, None, state, when, None, None, None, None)


ROWS = [_row("b", "ready", 3), _row("a", "destroyed", 1), _row("c", "failed", None), _row("d", None, 2)]


@pytest.mark.parametrize(
    ("key", "order"),
    [
        ("name", "abcd"),
        ("deployed", "bdac"),
        ("state", "cbad"),
        ("nonsense", "abcd"),
    ],
)
def test_sort_rows(key: str, order: str):
    assert "".join(row.name for row in sort_rows(ROWS, key)) == order
