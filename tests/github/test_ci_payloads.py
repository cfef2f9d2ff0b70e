"""Reading required checks and a commit's CI from GitHub's answers: the documented examples,
and what the stand-in answers validated against GitHub's response schemas."""

from __future__ import annotations

from typing import Any

import pytest

from bot.github.ci_payloads import check_runs, protection_checks, ruleset_checks, statuses
from handlers.ports import CommitCheck
from tests.github_standin.ci import (
    branch,
    branch_rules,
    check_runs_for_ref,
    ci_check_run,
    ci_status,
    combined_status,
)
from tests.github_standin.openapi import github_openapi
from tests.github_standin.state import State

REPO = "Codertocat/Hello-World"
SHA = "1" * 40


def test_the_documented_examples_read_as_expected():
    spec = github_openapi()
    get = lambda path: spec.example(spec.operation("GET", path), 200)  # noqa: E731
    assert ruleset_checks(get(f"/repos/{REPO}/rules/branches/main")) == []  # the example has no check rule
    assert protection_checks(get(f"/repos/{REPO}/branches/main")) == []  # unprotected in the example
    assert check_runs(get(f"/repos/{REPO}/commits/{SHA}/check-runs")) == [
        CommitCheck("mighty_readme", "completed", "neutral")
    ]
    assert statuses(get(f"/repos/{REPO}/commits/{SHA}/status")) == [
        CommitCheck("continuous-integration/jenkins", "completed", "success"),
        CommitCheck("security/brakeman", "completed", "success"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"protection": {"enabled": True, "required_status_checks": {"contexts": ["a"], "checks": []}}},
            ["a"],
        ),
        (
            {
                "protection": {
                    "required_status_checks": {"contexts": [], "checks": [{"context": "b", "app_id": 1}]}
                }
            },
            ["b"],
        ),
        ({"protection": {"enabled": False, "required_status_checks": {"contexts": ["a"]}}}, []),
        ({}, []),
        (None, []),
    ],
)
def test_classic_protection(data: Any, expected: list[str]):
    assert protection_checks(data) == expected


def test_pending_statuses_are_not_completed():
    assert statuses(
        {"statuses": [{"context": "ci", "state": "pending"}, {"context": "cd", "state": "error"}]}
    ) == [
        CommitCheck("ci", "pending", None),
        CommitCheck("cd", "completed", "error"),
    ]


def test_the_stand_in_answers_as_github_describes():
    spec, state = github_openapi(), State(1, "")
    state.require_checks(REPO, "master", ruleset=["test"], protection=["lint"])
    ci_check_run(state, spec, REPO, SHA, "test", "failure")
    ci_check_run(state, spec, REPO, SHA, "test", "success")
    ci_status(state, spec, REPO, SHA, "ci/jenkins", "pending")
    ci_status(state, spec, REPO, SHA, "ci/jenkins", "error")
    owner, repo = REPO.split("/")
    answers = {
        f"/repos/{REPO}/rules/branches/master": branch_rules,
        f"/repos/{REPO}/branches/master": branch,
        f"/repos/{REPO}/commits/{SHA}/check-runs": check_runs_for_ref,
        f"/repos/{REPO}/commits/{SHA}/status": combined_status,
    }
    bodies = {}
    for path, handler in answers.items():
        operation = spec.operation("GET", path)
        params = {"owner": owner, "repo": repo, "branch": "master", "ref": SHA}
        answer = handler(state, spec, operation, params, None, {"per_page": "100", "page": "1"})
        assert answer.status == 200
        assert spec.answer_errors(operation, 200, answer.body) == []
        bodies[path] = answer.body
    assert ruleset_checks(bodies[f"/repos/{REPO}/rules/branches/master"]) == ["test"]
    assert protection_checks(bodies[f"/repos/{REPO}/branches/master"]) == ["lint", "lint"]
    # the newest run of a name, the newest status of a context
    assert check_runs(bodies[f"/repos/{REPO}/commits/{SHA}/check-runs"]) == [
        CommitCheck("test", "completed", "success")
    ]
    assert statuses(bodies[f"/repos/{REPO}/commits/{SHA}/status"]) == [
        CommitCheck("ci/jenkins", "completed", "error")
    ]


def test_an_answer_off_the_description_is_caught():
    spec = github_openapi()
    operation = spec.operation("GET", f"/repos/{REPO}/commits/{SHA}/check-runs")
    assert operation is not None
    assert spec.answer_errors(operation, 200, {"check_runs": "none"}) != []
