"""Which deployments wait for CI, and for which checks, as the push and pull request handlers
record them (real router, GitHub double)."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import Harness
from tests.handlers.doubles import pull_request, push


@pytest.mark.parametrize(
    ("config", "required", "expected", "asked"),
    [
        ("", {"master": ["test"]}, None, []),
        ("deploy: {after: checks}\n", {"master": ["test", "AutoStack / production"]}, ["test"], ["master"]),
        ("deploy: {after: checks, checks: [lint]}\n", {"master": ["test"]}, ["lint"], []),
        # nothing required, nothing listed: live once built
        ("deploy: {after: checks}\n", {}, None, ["master"]),
        # previews.after alone does not hold production
        ("previews: {after: checks}\n", {"master": ["test"]}, None, []),
    ],
    ids=["default", "branch-rules", "listed", "none-required", "previews-only"],
)
async def test_a_push_records_the_checks_production_waits_for(
    harness: Harness,
    config: str,
    required: dict[str, list[str]],
    expected: list[str] | None,
    asked: list[str],
):
    harness.github.files["autostack.yml"] = config
    harness.github.required = required
    await harness.deliver("push", push(sha="1" * 40))
    [deployment] = await harness.deployments()
    assert (deployment.checks or {}).get("required") == expected
    assert harness.github.required_calls == asked
    assert harness.jobs.named("run_deployment") == [(deployment.id,)]  # built at once either way


async def test_a_preview_waits_for_its_base_branchs_checks(harness: Harness):
    harness.github.files["autostack.yml"] = "previews: {after: checks}\n"
    harness.github.required = {"master": ["test"]}
    await harness.deliver("pull_request", pull_request("opened"))
    [deployment] = await harness.deployments()
    assert deployment.checks == {
        "required": ["test"],
        "verdict": "pending",
        "detail": "waits for test to pass",
    }
    assert harness.github.required_calls == ["master"]
