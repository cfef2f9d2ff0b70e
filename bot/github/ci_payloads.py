"""GitHub's answers about required checks and a commit's CI, read into handler values (pure)."""

from __future__ import annotations

from typing import Any

from handlers.ports import CommitCheck


def ruleset_checks(rules: list[Any]) -> list[str]:
    """The contexts the `required_status_checks` rules of a branch's rulesets name."""
    names: list[str] = []
    for rule in rules:
        if isinstance(rule, dict) and rule.get("type") == "required_status_checks":
            for check in (rule.get("parameters") or {}).get("required_status_checks") or []:
                if isinstance(check, dict) and check.get("context"):
                    names.append(str(check["context"]))
    return names


def protection_checks(branch: Any) -> list[str]:
    """The contexts classic branch protection requires, from a `Get a branch` answer."""
    protection = branch.get("protection") if isinstance(branch, dict) else None
    if not isinstance(protection, dict) or protection.get("enabled") is False:
        return []
    required = protection.get("required_status_checks") or {}
    names = [str(name) for name in required.get("contexts") or []]
    names += [str(check["context"]) for check in required.get("checks") or [] if check.get("context")]
    return names


def check_runs(page: Any) -> list[CommitCheck]:
    """A page of `List check runs for a Git reference`."""
    return [
        CommitCheck(str(run.get("name", "")), str(run.get("status", "")), run.get("conclusion"))
        for run in (page.get("check_runs") if isinstance(page, dict) else None) or []
    ]


def statuses(page: Any) -> list[CommitCheck]:
    """A page of `Get the combined status for a specific reference` (latest per context)."""
    found = []
    for status in (page.get("statuses") if isinstance(page, dict) else None) or []:
        state = str(status.get("state", ""))
        found.append(
            CommitCheck(
                str(status.get("context", "")),
                "pending" if state == "pending" else "completed",
                None if state == "pending" else state,
            )
        )
    return found
