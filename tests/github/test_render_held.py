"""What a deployment waiting for its checks, or blocked by one, shows on GitHub (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.reporter.check_run import describe, render_summary, render_title, running_status
from bot.reporter.comment import render_pr_comment
from bot.reporter.views import CommentRow, DeploymentView
from deployer.state import can_move

WAITS = "waits for lint, test to pass"
BLOCKED = "required check test failed"


def view(state: str, reason: str) -> DeploymentView:
    return DeploymentView(
        id=7,
        project="shop",
        environment="production",
        kind="production",
        sha="3f2a9c1" + "0" * 33,
        state=state,
        log_url="https://a.example/deployments/7",
        reason=reason,
    )


@pytest.mark.parametrize(
    ("state", "reason", "title", "description", "status", "headline"),
    [
        (
            "waiting",
            WAITS,
            f"production is built and {WAITS}",
            f"Built; {WAITS}",
            "pending",
            f"### ⏸️ Waiting for checks production — built, {WAITS}",
        ),
        (
            "blocked",
            BLOCKED,
            f"production blocked: {BLOCKED}",
            f"Blocked: {BLOCKED}",
            "failure",
            f"### ⛔ Blocked production — {BLOCKED}; it goes live once the required checks pass",
        ),
    ],
)
def test_held_deployments_name_their_checks(state, reason, title, description, status, headline):
    shown = view(state, reason)
    assert render_title(shown) == title
    assert describe(shown) == description
    assert running_status(state) == status
    assert render_summary(shown).startswith(headline)


def test_the_sticky_comment_names_the_blocking_check():
    held = CommentRow(
        "pr-12",
        "blocked",
        None,
        "3f2a9c1" + "0" * 33,
        12.0,
        True,
        datetime(2024, 1, 1, tzinfo=UTC),
        held_because=BLOCKED,
    )
    assert f"| pr-12 | ⛔ Blocked: {BLOCKED} | — | `3f2a9c1` |" in render_pr_comment("shop", [held])


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("building", "waiting", True),
        ("building", "blocked", True),
        ("waiting", "blocked", True),
        ("blocked", "waiting", True),
        ("waiting", "deploying", True),
        ("blocked", "superseded", True),
        ("waiting", "cancelled", True),
        ("queued", "waiting", False),
        ("waiting", "ready", False),
        ("deploying", "waiting", False),
    ],
)
def test_the_state_machine_holds_builds_only_between_build_and_release(current, new, allowed):
    assert can_move(current, new) is allowed
