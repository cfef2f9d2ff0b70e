"""AutoStack's check-run buttons run commands that exist, and its own checks are known by name."""

from __future__ import annotations

from handlers.check_names import BUTTONS, check_name, is_autostack, status_context
from handlers.commands.registry import BY_NAME


def test_every_button_runs_a_declared_command():
    assert set(BUTTONS) <= set(BY_NAME)


def test_the_names_autostack_reports_are_the_ones_it_never_waits_for():
    for name in (check_name("production"), status_context("pr-3", "api")):
        assert is_autostack(name)
    assert (check_name("pr-3", "api"), status_context("production")) == (
        "AutoStack / api/pr-3",
        "autostack/production",
    )
    assert not is_autostack("CI / test")
