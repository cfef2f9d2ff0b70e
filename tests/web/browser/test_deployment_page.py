"""The deployment page in Chromium: the phase timeline, Cancel of a running build, Redeploy of a
failed one (both run by the deploy worker), and Compare with previous. Screenshots go to
test-artifacts/browser/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from store.models import Deployment, utcnow
from tests.web.browser.conftest import ARTIFACTS
from tests.web.browser.test_flows import sign_in
from tests.wired import app_files


def _phases(begin, *spans: tuple[str, float, float | None]) -> dict[str, Any]:
    phases = {}
    for name, start, seconds in spans:
        at = begin + timedelta(seconds=start)
        phases[name] = {"started_at": at.isoformat()}
        if seconds is not None:
            done = at + timedelta(seconds=seconds)
            phases[name].update(finished_at=done.isoformat(), seconds=seconds)
    return phases


async def add_deployment(sessions: Any, env_id: int, env: str, project_id: int, **fields: Any) -> int:
    """A deployment of the seeded project, as the pipeline would have stored it."""
    async with sessions.begin() as session:
        row = Deployment(
            project_id=project_id, environment_id=env_id, environment=env, trigger="push", **fields
        )
        session.add(row)
        await session.flush()
        return row.id


async def _row(sessions: Any, deployment_id: int) -> Deployment:
    async with sessions() as session:
        return await session.get(Deployment, deployment_id)


def _add(served, env: str = "pr-1", **fields: Any) -> int:
    env_id = served.seed.preview_id if env == "pr-1" else served.seed.production_id
    return served.run(add_deployment(served.state.sessions, env_id, env, served.seed.project_id, **fields))


def test_timeline_shows_each_phase_start_and_duration(page, served, github_standin):
    begin = utcnow() - timedelta(minutes=3)
    phases = _phases(begin, ("source", 1, 2.0), ("install", 3, 20.0), ("build", 23, 40.0), ("start", 63, 5.0))
    deployment_id = _add(
        served, state="ready", created_at=begin, ready_at=begin + timedelta(seconds=68), phases=phases
    )
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/deployments/{deployment_id}")
    rows = page.locator("#phases tbody tr")
    assert rows.count() == 4
    assert rows.nth(2).locator("td").nth(0).inner_text() == "build"
    assert rows.nth(2).locator("td.took-cell").inner_text() == "40.0 s"
    assert "+23.0 s" in rows.nth(2).locator("td.started").inner_text()
    # the build bar starts where install's ends and is twice as wide
    install = rows.nth(1).locator("rect").bounding_box()
    build = rows.nth(2).locator("rect").bounding_box()
    assert abs(build["x"] - (install["x"] + install["width"])) < 2
    assert abs(build["width"] - 2 * install["width"]) < 2
    page.screenshot(path=str(ARTIFACTS / "deployment-timeline.png"), full_page=True)


def test_cancel_a_running_build(page, served, github_standin):
    slow = app_files("never", **{"autostack.yml": "build:\n  build: sleep 30\n  start: python3 app.py\n"})
    uploading = served.start(served.wired.deploy("pr-1", slow))
    deployment_id = served.run(served.wired.started_building())
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/deployments/{deployment_id}")
    page.wait_for_selector('#phases tr[data-phase="build"].running')
    page.screenshot(path=str(ARTIFACTS / "deployment-running.png"), full_page=True)
    page.get_by_role("button", name="Cancel deployment").click()
    page.wait_for_selector("#state.cancelled")
    assert page.locator("#reason").inner_text().startswith("cancelled by alice")
    assert page.get_by_role("button", name="Cancel deployment").count() == 0
    # the worker stopped the build: the upload's progress ends there
    assert uploading.result(timeout=20)[-1]["state"] == "cancelled"
    page.screenshot(path=str(ARTIFACTS / "deployment-cancelled.png"), full_page=True)


def test_redeploy_a_failed_deployment(page, served, github_standin):
    failing = app_files(**{"autostack.yml": "build:\n  build: echo npm ERR! missing script; exit 1\n"})
    lines = served.run(served.wired.deploy("pr-1", failing), timeout=60)
    failed = lines[0]["id"]
    assert lines[-1]["state"] == "failed"
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/deployments/{failed}")
    page.get_by_role("button", name="Redeploy this commit").click()
    page.wait_for_url(re.compile(rf"/deployments/{failed + 1}$"))
    # the deploy worker builds it again while the page follows: it fails the same way
    page.wait_for_selector("#state.failed")
    assert "npm ERR! missing script" in page.locator("#log").inner_text()
    row = served.run(_row(served.state.sessions, failed + 1))
    assert (row.environment, row.trigger, row.actor) == ("pr-1", "web", "alice")
    page.screenshot(path=str(ARTIFACTS / "deployment-redeployed.png"), full_page=True)


def test_compare_with_previous(page, served, github_standin):
    after = add_compared(served)
    sign_in(page, served, github_standin)
    page.goto(f"{served.url}/deployments/{after}")
    page.click("#compare-link")
    page.wait_for_url(re.compile(rf"/deployments/{after}/compare$"))
    link = page.locator("#compare-commits").get_attribute("href")
    assert link == f"https://github.com/octo-org/shop/compare/{'a' * 40}...{'c' * 40}"
    assert page.locator('#plan tr[data-key="replicas"]').inner_text().split() == ["replicas", "1", "3"]
    assert page.locator("#apart").inner_text() == "1 h 30 min"
    page.screenshot(path=str(ARTIFACTS / "deployment-compare.png"), full_page=True)


def add_compared(served) -> int:
    """A failed production deployment 1 h 30 min after the seeded live one, with a changed plan
    and a long reason: the widest the deployment and compare pages get."""
    seeded = served.run(_row(served.state.sessions, served.seed.deployment_id))
    plan = {"framework": "nextjs", "replicas": 1, "start": "next start -p $PORT -H 127.0.0.1"}
    served.run(_set_config(served.state.sessions, seeded.id, plan))
    begin = seeded.created_at + timedelta(minutes=90)
    return _add(
        served,
        env="production",
        state="failed",
        created_at=begin,
        commit_sha="c" * 40,
        commit_message="a rather long commit message that goes on " * 4,
        reason="build failed: Type error: Property 'somethingVeryLongIndeed' does not exist on type " * 2,
        config={
            **plan,
            "replicas": 3,
            "start": "HOSTNAME=127.0.0.1 node .next/standalone/server.js --keep-alive 65",
        },
        phases=_phases(begin, ("source", 0, 1.0), ("install", 1, 20.0), ("build", 21, 9.5)),
    )


async def _set_config(sessions: Any, deployment_id: int, plan: dict[str, Any]) -> None:
    async with sessions.begin() as session:
        (await session.get(Deployment, deployment_id)).config = plan
