"""The deployment page's log: grouped by phase with durations, the quoted error line marked
and linked, and the whole log downloadable as text."""

from __future__ import annotations

from datetime import UTC, datetime

from store.models import Deployment, DeploymentLog

AT = datetime(2026, 1, 5, 9, 30, 0, tzinfo=UTC)
PHASES = {
    "install": {"started_at": AT.isoformat(), "after_line": 1, "seconds": 12.34},
    "build": {"started_at": AT.isoformat(), "after_line": 3, "seconds": 63.0, "error_line": 5},
}
LINES = [
    "detected Next.js",
    "$ npm ci",
    "added 312 packages",
    "$ next build",
    "Type error: x is not a number",
    "done",
]


async def _failed(web, seeded) -> int:
    async with web.sessions.begin() as session:
        row = Deployment(
            project_id=seeded.project_id,
            environment_id=seeded.production_id,
            environment="production",
            trigger="cli",
            state="failed",
            reason="build failed: Type error: x is not a number",
            phases=PHASES,
        )
        session.add(row)
        await session.flush()
        for seq, text in enumerate(LINES, start=1):
            session.add(DeploymentLog(deployment_id=row.id, seq=seq, ts=AT, line=text))
        return row.id


async def test_page_groups_lines_by_phase_and_marks_the_error(as_role, web, seeded):
    deployment_id = await _failed(web, seeded)
    page = (await as_role("viewer").get(f"/deployments/{deployment_id}")).text

    build_row = page.split('<tr data-phase="build"')[1].split("</tr>")[0]
    assert '<td class="took-cell"><span class="took">63.0 s</span></td>' in build_row
    install = page.split('<details class="phase-log" data-phase="install" open>')[1].split("</details>")[0]
    assert 'install <span class="took">12.3 s</span>' in install
    assert "$ npm ci" in install and "added 312 packages" in install and "next build" not in install
    build = page.split('<details class="phase-log" data-phase="build" open>')[1].split("</details>")[0]
    assert '<div class="line error" id="L5"><a class="ts" href="#L5">09:30:00</a>' in build
    assert '<a href="#L5" id="first-error">Jump to first error</a>' in page
    assert 'is not a number <a href="#L5">(log line 5)</a>' in page
    assert "<script>" not in page  # CSP-friendly: the page's only script is /static/live.js


async def test_log_downloads_as_text_with_phase_headers(as_role, web, seeded):
    deployment_id = await _failed(web, seeded)
    response = await as_role("viewer").get(f"/deployments/{deployment_id}/log.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert f'filename="deployment-{deployment_id}.log"' in response.headers["content-disposition"]
    assert response.text.splitlines() == [
        "09:30:00.000  detected Next.js",
        "── install (12.3 s)",
        "09:30:00.000  $ npm ci",
        "09:30:00.000  added 312 packages",
        "── build (63.0 s)",
        "09:30:00.000  $ next build",
        "09:30:00.000  Type error: x is not a number",
        "09:30:00.000  done",
    ]


async def test_log_of_another_teams_deployment_is_not_found(as_role):
    assert (await as_role("viewer").get("/deployments/999/log.txt")).status_code == 404
