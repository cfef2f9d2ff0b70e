"""`/lock` arguments → which environment and why (pure)."""

from __future__ import annotations

import pytest

from handlers.commands.locks import MAX_REASON, lock_target


@pytest.mark.parametrize(
    ("args", "pr_number", "expected"),
    [
        ((), 7, ("production", None)),
        (("production",), None, ("production", None)),
        (("PRODUCTION", "freeze", "for", "launch"), 7, ("production", "freeze for launch")),
        (("incident", "42"), 7, ("production", "incident 42")),
        (("preview",), 7, ("pr-7", None)),
        (("preview", "design", "review"), 7, ("pr-7", "design review")),
        (("pr-3", "flaky"), 7, ("pr-3", "flaky")),
        (("branch-staging",), None, ("branch-staging", None)),
    ],
)
def test_environment_and_reason(
    args: tuple[str, ...], pr_number: int | None, expected: tuple[str, str | None]
):
    assert lock_target(args, pr_number) == expected


@pytest.mark.parametrize(
    ("args", "pr_number", "problem"),
    [
        (("preview",), None, "`preview` means a pull request's preview"),
        (("production", "x" * (MAX_REASON + 1)), 7, f"at most {MAX_REASON} characters"),
    ],
)
def test_what_is_wrong(args: tuple[str, ...], pr_number: int | None, problem: str):
    answer = lock_target(args, pr_number)
    assert isinstance(answer, str) and problem in answer
