"""Every page at 1024, 1280 and 1440 px wide in Chromium: nothing wider than the window, no
table cell or form field past its right edge; and the confirmation flows, clicked through.
Screenshots of every page and width go to test-artifacts/layout/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from store.encryption import env_var_context
from store.models import Domain, EnvVar, Member, Team
from tests.web.browser.test_deployment_page import add_compared
from tests.web.browser.test_flows import sign_in

WIDTHS = (1024, 1280, 1440)
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "layout"
# elements whose right edge past the window means something is cut off (a button, a cell)
OVERFLOWING = """() => {
  const limit = window.innerWidth;
  const wide = document.documentElement.scrollWidth;
  const cut = [];
  for (const el of document.querySelectorAll("table, tr, td, th, form, input, select, textarea, button, .card, label")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > limit + 0.5) cut.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${Math.round(box.right)}`);
  }
  return {wide, limit, cut: cut.slice(0, 8)};
}"""


async def _long_rows(sessions: Any, keyring: Any, project_id: int) -> None:
    # the widest content a real team has: long hostnames with every button, long values
    async with sessions.begin() as session:
        for number in range(3):
            session.add(
                Domain(
                    project_id=project_id,
                    hostname=f"checkout-{number}.a-rather-long-subdomain.example-company-name.com",
                    token="t" * 32,
                    state="pending",
                    last_error="no TXT record _autostack.checkout.a-rather-long-subdomain yet; add it at your DNS",
                )
            )
        value = "postgresql://app:password@db.internal.example.com:5432/shop?sslmode=require&pool=20"
        key_id, blob = keyring.encrypt(value, env_var_context(project_id, "DATABASE_URL", "all"))
        session.add(
            EnvVar(project_id=project_id, key="DATABASE_URL", scope="all", key_id=key_id, ciphertext=blob)
        )


async def _second_member(sessions: Any) -> None:
    async with sessions.begin() as session:
        team = await session.scalar(select(Team).where(Team.name == "octo-org"))
        session.add(Member(team_id=team.id, github_user_id=99, github_login="bob", role="developer"))


def _pages(served: Any, compared: int) -> dict[str, str]:
    return {
        "projects": "/",
        "search": "/?q=sh&sort=state",
        "project": "/projects/shop",
        "deployment": f"/deployments/{served.seed.deployment_id}",
        "deployment-timeline": f"/deployments/{compared}",
        "compare": f"/deployments/{compared}/compare",
        "envvars": "/projects/shop/env",
        "domains": "/projects/shop/domains",
        "team": "/team",
        "activity": "/team/activity",
        "analytics": "/projects/shop/analytics",
        "setup": "/setup",
        "runtime": "/projects/shop/environments/pr-1/runtime",
        "confirm-destroy": "/projects/shop/environments/pr-1/destroy",
        "confirm-delete": "/projects/shop/delete",
    }


def test_no_page_overflows_from_1024_to_1440(page, served, github_standin):
    served.run(_long_rows(served.state.sessions, served.state.keyring, served.seed.project_id))
    compared = add_compared(served)  # a failed deployment with a timeline, a long reason and a plan diff
    sign_in(page, served, github_standin)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in _pages(served, compared).items():
            response = page.goto(served.url + path)
            assert response is not None and response.status == 200, (name, response and response.status)
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            found = page.evaluate(OVERFLOWING)
            if found["wide"] > found["limit"] or found["cut"]:
                problems.append((name, width, found))
    assert problems == []
    served.run(_second_member(served.state.sessions))
    page.goto(served.url + "/team")
    role = page.locator("#members select[name=role]").first.bounding_box()
    assert role["width"] < 160, role  # sized to its options, not stretched across the cell
    page.goto(served.url + "/setup")
    card, field = page.locator("#register-card").bounding_box(), page.locator("#org").bounding_box()
    assert card["x"] <= field["x"] and field["x"] + field["width"] <= card["x"] + card["width"]
    assert card["y"] <= field["y"] and field["y"] + field["height"] <= card["y"] + card["height"]


def test_favicon_is_linked_and_served(page, served, github_standin):
    sign_in(page, served, github_standin)
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/static/favicon.svg"
    answer = page.request.get(served.url + href)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")


def test_destroy_is_confirmed_before_it_happens(page, served, github_standin):
    served.run(served.wired.deployed("pr-1", "preview"), timeout=60)
    sign_in(page, served, github_standin)
    page.goto(served.url + "/projects/shop")
    page.locator("tr", has_text="pr-1").get_by_role("link", name="Destroy…").click()
    page.wait_for_selector("h1:has-text('Destroy shop/pr-1?')")
    assert served.run(served.wired.visit("pr-1")).text == "preview"
    page.get_by_role("button", name="Destroy").click()
    page.wait_for_url(re.compile(r"/projects/shop$"))
    row = page.locator("table.environments tr", has_text="pr-1")
    assert "destroyed" in row.inner_text()
    assert served.run(served.wired.visit("pr-1")).status_code == 404


@pytest.mark.parametrize("typed", ["shop"])
def test_delete_project_by_typing_its_name(page, served, github_standin, typed):
    sign_in(page, served, github_standin)
    page.goto(served.url + "/projects/shop")
    page.get_by_role("link", name="Delete this project…").click()
    button = page.get_by_role("button", name="Delete project")
    # confirm.js disables it once the page has loaded, until the name matches: wait for that
    expect(button).to_be_disabled()
    page.fill("#confirm-name", "sho")
    expect(button).to_be_disabled()
    page.fill("#confirm-name", typed)
    expect(button).to_be_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/$"))
    page.wait_for_selector("text=No projects yet")


def test_a_refused_paste_keeps_the_text_and_names_the_line(page, served, github_standin):
    sign_in(page, served, github_standin)
    page.goto(served.url + "/projects/shop/env")
    pasted = "LOG_LEVEL=debug\nREGION=eu\n1FOO=bar"
    page.fill("#bulk-vars textarea", pasted)
    page.click("#bulk-vars button")
    page.wait_for_selector("#error")
    assert page.locator("#error").inner_text() == 'line 3: "1FOO" — names start with a letter or _'
    assert page.locator("#bulk-vars textarea").input_value() == pasted
    page.fill("#add-var input[name=key]", "MY-VAR")
    page.click("#add-var button")  # no pattern attribute: the server answers, in its own words
    page.wait_for_selector("#error")
    assert "names use only letters, digits and _" in page.locator("#error").inner_text()
    assert page.locator("#add-var input[name=key]").input_value() == "MY-VAR"
