"""The verdict on a commit's required checks, and which names a deployment waits for (pure)."""

from __future__ import annotations

import pytest

from handlers.ci_results import subject
from handlers.ci_verdict import verdict, waited_for
from handlers.ports import CommitCheck

done = lambda name, conclusion: CommitCheck(name, "completed", conclusion)  # noqa: E731


@pytest.mark.parametrize(
    ("required", "checks", "expected"),
    [
        (["test"], [], ("pending", "waits for test to pass")),
        (["test"], [CommitCheck("test", "in_progress")], ("pending", "waits for test to pass")),
        (["test"], [CommitCheck("test", "pending")], ("pending", "waits for test to pass")),
        (["test"], [done("test", "success")], ("passed", None)),
        (["test"], [done("test", "neutral")], ("passed", None)),
        (["test"], [done("test", "skipped")], ("passed", None)),
        (["test"], [done("test", "failure")], ("failed", "required check test failed")),
        (["ci/jenkins"], [done("ci/jenkins", "error")], ("failed", "required check ci/jenkins failed")),
        (["test"], [done("test", "cancelled")], ("failed", "required check test was cancelled")),
        (["test"], [done("test", "timed_out")], ("failed", "required check test timed out")),
        (["test"], [done("test", "action_required")], ("failed", "required check test needs action")),
        # a failure blocks at once, whatever else still runs
        (["lint", "test"], [done("test", "failure")], ("failed", "required check test failed")),
        (["lint", "test"], [done("lint", "success")], ("pending", "waits for test to pass")),
        (["lint", "test"], [done("lint", "success"), done("test", "success")], ("passed", None)),
        # checks nobody requires decide nothing
        (["test"], [done("test", "success"), done("docs", "failure")], ("passed", None)),
        # the latest report of a name counts: a re-run that passed
        (["test"], [done("test", "failure"), done("test", "success")], ("passed", None)),
    ],
    ids=[
        "not-reported",
        "running",
        "status-pending",
        "success",
        "neutral",
        "skipped",
        "failure",
        "status-error",
        "cancelled",
        "timed-out",
        "action-required",
        "failure-beats-waiting",
        "one-of-two",
        "both",
        "unrequired-failure",
        "rerun",
    ],
)
def test_verdict(required: list[str], checks: list[CommitCheck], expected: tuple[str, str | None]):
    assert verdict(required, checks) == expected


def test_autostacks_own_checks_are_never_waited_for():
    required = ["AutoStack / production", "autostack/production", "test", "test", "", "lint"]
    assert waited_for(required) == ["lint", "test"]


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("check_run", {"check_run": {"head_sha": "abc", "name": "test"}}, ("abc", "test")),
        ("check_suite", {"check_suite": {"head_sha": "abc"}}, ("abc", None)),
        ("workflow_run", {"workflow_run": {"head_sha": "abc"}}, ("abc", None)),
        ("status", {"sha": "abc", "context": "ci/jenkins"}, ("abc", "ci/jenkins")),
        ("check_suite", {}, (None, None)),
    ],
)
def test_the_commit_and_check_a_ci_delivery_is_about(
    event: str, payload: dict[str, object], expected: tuple[str | None, str | None]
):
    assert subject(event, payload) == expected
