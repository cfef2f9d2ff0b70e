"""Where a deployment is reported: its environment's pull request, or else its own."""

from __future__ import annotations

from bot.reporter.records import ReportRecords
from tests.github.seed import REPO, add_deployment, seed_environment


async def test_a_production_deployment_made_from_a_pull_request_is_reported_on_that_pull_request(sessions):
    production = await seed_environment(sessions, kind="production")
    deployment_id = await add_deployment(sessions, production, "1" * 40, pr_number=12)
    row, target = await ReportRecords(sessions).deployment(deployment_id)
    assert row.id == deployment_id and target is not None
    assert (target.repo, target.environment, target.pr_number) == (REPO, "production", 12)


async def test_a_preview_deployment_is_reported_on_its_own_pull_request(sessions):
    preview = await seed_environment(sessions, pr_number=7)
    deployment_id = await add_deployment(sessions, preview, "2" * 40, pr_number=None)
    _, target = await ReportRecords(sessions).deployment(deployment_id)
    assert target is not None and (target.environment, target.pr_number) == ("pr-7", 7)
