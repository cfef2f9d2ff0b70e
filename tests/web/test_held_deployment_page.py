"""The deployment page of a build held by `deploy.after: checks` shows its state and the check."""

from __future__ import annotations

import pytest

from store.models import Deployment


@pytest.mark.parametrize(
    ("state", "reason", "icon"),
    [("blocked", "required check test failed", "⛔"), ("waiting", "waits for lint, test to pass", "⏸")],
)
async def test_the_page_names_the_state_and_the_check(
    as_role, web, seeded, state: str, reason: str, icon: str
):
    async with web.sessions.begin() as session:
        row = Deployment(
            project_id=seeded.project_id,
            environment_id=seeded.production_id,
            environment="production",
            trigger="push",
            commit_sha="2" * 40,
            state=state,
            reason=reason,
            checks={"required": ["lint", "test"], "verdict": "pending", "detail": reason},
        )
        session.add(row)
        await session.flush()
        deployment_id = row.id
    page = (await as_role("viewer").get(f"/deployments/{deployment_id}")).text
    assert f'<dd id="reason">{reason}</dd>' in page
    assert f'<span class="state {state}" id="state">{state}</span>' in page
    assert 'data-live="yes"' in page  # still to happen: the page follows it
    listing = (await as_role("viewer").get("/projects/shop")).text
    assert (
        f'<span class="state {state}"><span class="icon" aria-hidden="true">{icon}</span> {state}</span>'
        in listing
    )
