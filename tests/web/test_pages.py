"""Projects, project and deployment pages, and who may not press their deploy buttons, as a
signed-in member sees them."""

from __future__ import annotations

from tests.web import harness

CSRF = {"csrf": "test-csrf"}


async def test_signed_out_pages_redirect_to_login(web):
    async with harness.client(web) as anonymous:
        response = await anonymous.get("/projects/shop")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/shop"


async def test_projects_list_shows_production_url_and_last_state(as_role, seeded):
    response = await as_role("viewer").get("/")
    assert response.status_code == 200
    assert "http://production.shop.localhost" in response.text
    assert 'class="state ready"' in response.text


async def test_project_page_filters_deployments(as_role, seeded):
    viewer = as_role("viewer")
    everything = (await viewer.get("/projects/shop")).text
    assert f"#{seeded.deployment_id}" in everything and f"#{seeded.preview_deployment_id}" in everything
    only_pr = (await viewer.get("/projects/shop?environment=pr-1")).text
    assert f'href="/deployments/{seeded.deployment_id}"' not in only_pr.split("<h2>Deployments")[1]
    assert f'href="/deployments/{seeded.preview_deployment_id}"' in only_pr
    none = (await viewer.get("/projects/shop?state=failed")).text
    assert "No deployments match" in none


async def test_deployment_page_has_log_commit_link_and_stream(as_role, seeded):
    page = await as_role("viewer").get(f"/deployments/{seeded.deployment_id}")
    assert "built production" in page.text
    assert "https://github.com/octo-org/shop/commit/" + "a" * 40 in page.text
    events = await as_role("viewer").get(f"/deployments/{seeded.deployment_id}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    assert "event: log" in events.text and "event: finished" in events.text


async def test_production_actions_need_admin(as_role, seeded):
    # what an allowed one does is in test_page_actions.py, against what `serve` runs
    for action in ("redeploy", "rollback", "destroy"):
        path = f"/projects/shop/environments/production/{action}"
        refused = await as_role("developer").post(path, data={**CSRF, "confirmed": "yes"})
        assert refused.status_code == 403, action


async def test_csrf_missing_token_is_refused(as_role, seeded, web):
    response = await as_role("owner").post("/projects/shop/env/set", data={"key": "A", "value": "1"})
    assert response.status_code == 403
    assert "stale" in response.text
    wrong = await as_role("owner").post(
        "/projects/shop/env/set", data={"key": "A", "value": "1", "csrf": "x"}
    )
    assert wrong.status_code == 403
