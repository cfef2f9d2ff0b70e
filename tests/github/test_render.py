"""Pure renderers: check-run summary, buttons, descriptions, sticky comment, log tail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.github.api import IssueComment
from bot.reporter.check_run import actions_for, describe, render_summary, render_title
from bot.reporter.comment import MARKER, find_sticky, render_pr_comment
from bot.reporter.log_tail import GITHUB_TEXT_LIMIT, LogTail, render_log_text
from bot.reporter.views import CommentRow, DeploymentView, build_time


def view(**changes) -> DeploymentView:
    values = dict(
        id=7,
        project="shop",
        environment="pr-12",
        kind="preview",
        sha="3f2a9c1" + "0" * 33,
        state="ready",
        log_url="https://a.example/deployments/7",
        url="https://pr-12--shop.example.com",
    )
    values.update(changes)
    return DeploymentView(**values)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ["### ✅ pr-12 is live — https://pr-12--shop.example.com", "[Deployment #7]"]),
        ({"state": "failed", "reason": "npm ci exited 1"}, ["### ❌ pr-12 failed — npm ci exited 1"]),
        ({"state": "building", "phase": "install"}, ["### 🔨 Building pr-12 — install"]),
        (
            {
                "framework": "Next.js 15",
                "framework_reason": "found `next` in package.json",
                "build_seconds": 48,
                "facts": {"cache": "92 %", "replicas": "2 ready"},
            },
            [
                "Next.js 15 (found `next` in package.json) · build 48 s (cache 92 %)",
                "- **replicas**: 2 ready",
            ],
        ),
        ({"artifact": "local:/b/1"}, ["artifact `local:/b/1`"]),
        (
            {"phases": {"install": 12.04, "build": 63.0, "start": 0.2, "health": 1.25, "switch": 0.0}},
            ["install 12.0 s · build 63.0 s · start 0.2 s · health 1.2 s · switch 0.0 s"],
        ),
        (
            {"state": "failed", "reason": "install failed: ERROR: x", "phases": {"install": 3.5}},
            ["### ❌ pr-12 failed — install failed: ERROR: x", "\ninstall 3.5 s\n"],
        ),
    ],
)
def test_summary(changes, expected):
    summary = render_summary(view(**changes))
    for fragment in expected:
        assert fragment in summary


@pytest.mark.parametrize(
    ("changes", "identifiers"),
    [
        ({}, ["redeploy", "promote"]),
        ({"state": "failed"}, ["redeploy"]),
        ({"state": "building"}, []),
        ({"kind": "production"}, ["redeploy", "rollback"]),
        ({"kind": "production", "state": "failed"}, ["redeploy", "rollback"]),
        ({"kind": "branch"}, ["redeploy"]),
    ],
)
def test_actions(changes, identifiers):
    actions = actions_for(view(**changes))
    assert [a.identifier for a in actions] == identifiers
    assert all(len(a.label) <= 20 and len(a.description) <= 40 for a in actions)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Live at https://pr-12--shop.example.com"),
        ({"state": "failed", "reason": "x" * 500}, "Failed: " + "x" * 131 + "…"),
        ({"state": "queued"}, "Waiting for a worker"),
        ({"state": "building", "phase": "build"}, "Building: build"),
        ({"state": "cancelled"}, "Cancelled"),
    ],
)
def test_descriptions_fit_140(changes, expected):
    text = describe(view(**changes))
    assert text == expected and len(text) <= 140
    assert len(render_title(view(**changes))) <= 140


@pytest.mark.parametrize(
    ("seconds", "hit", "expected"),
    [
        (None, None, "—"),
        (48.4, None, "48 s"),
        (65, True, "1 min 5 s (cache hit)"),
        (3, False, "3 s (no cache)"),
    ],
)
def test_build_time(seconds, hit, expected):
    assert build_time(seconds, hit) == expected


def test_pr_comment():
    updated = datetime(2025, 1, 1, 12, 5, tzinfo=UTC)
    rows = [
        CommentRow("pr-12", "ready", "https://pr-12.example.com", "3f2a9c1abc", 48, True, updated),
        CommentRow("pr-12-api", "failed", "https://x", "9b1e044", None, None, updated),
    ]
    body = render_pr_comment("shop", rows)
    assert body.startswith(MARKER + "\n**AutoStack**")
    assert (
        "| pr-12 | ✅ Ready | https://pr-12.example.com | `3f2a9c1` | 48 s (cache hit) "
        "| 2025-01-01 12:05 UTC |"
    ) in body
    assert "| pr-12-api | ❌ Failed | — | `9b1e044` | — |" in body
    assert '<!-- autostack:data {"project":"shop"' in body


@pytest.mark.parametrize(
    ("comments", "expected"),
    [
        ([], None),
        ([IssueComment(1, "hello", "bob", False)], None),
        ([IssueComment(1, f"> {MARKER}", "bob", False)], None),
        ([IssueComment(1, MARKER, "mallory", False)], None),
        (
            [
                IssueComment(1, "x", "bob", False),
                IssueComment(2, MARKER + "\nold", "autostack[bot]", True),
                IssueComment(3, MARKER, "autostack[bot]", True),
            ],
            2,
        ),
    ],
)
def test_find_sticky(comments, expected):
    found = find_sticky(comments)
    assert (found.id if found else None) == expected


def test_log_tail_keeps_the_end_within_the_limit():
    tail = LogTail()
    for n in range(100_000):
        tail.append(f"\x1b[32mline {n}\x1b[0m " + "é" * 50)
    text = render_log_text(tail.lines, tail.cut, "https://a/deployments/1")
    assert len(text.encode()) <= GITHUB_TEXT_LIMIT
    assert text.endswith("line 99999 " + "é" * 50 + "\n```")
    assert f"{tail.cut:,} earlier lines cut" in text and "\x1b" not in text


def test_log_tail_fences_backticks_and_shortens_huge_lines():
    tail = LogTail(longest_line=100)
    tail.append("```not the end```")
    tail.append("y" * 5000)
    text = render_log_text(tail.lines, tail.cut, "u")
    assert "\n````text\n" in text and text.endswith("\n````")
    assert "4,900 characters cut" in text
