"""The page's deploy actions as a member presses them, against what `serve` runs: each goes
through the job queue to the deploy worker, and the test looks at the app through the router,
at the pages and at the team's activity log. On both backends."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from store.models import AuditEvent, Environment
from tests.web.dns_server import dns_server
from tests.wired import CSRF, Served, app_files, app_files_showing

CONFIRMED = {**CSRF, "confirmed": "yes"}
SLOW_BUILD = "build:\n  build: sleep 30\n  start: python3 app.py\n"


def _new_deployment(answer) -> int:
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


async def _activity(served: Served, action: str) -> list[AuditEvent]:
    async with served.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_redeploy_builds_the_environment_again(served: Served):
    first = await served.deployed("pr-7", "first build")
    developer = served.as_role("developer")

    again = _new_deployment(await developer.post("/projects/shop/environments/pr-7/redeploy", data=CSRF))

    row = await served.finished(again)
    assert (row.state, row.actor, row.trigger) == ("ready", "developer-user", "web")
    assert (await served.visit("pr-7")).text == "first build"
    page = (await developer.get(f"/deployments/{again}")).text
    assert 'class="state ready"' in page and f"/deployments/{first}" not in page.split("<h1")[1][:200]
    [entry] = await _activity(served, "redeploy")
    assert (entry.actor, entry.target, entry.details) == (
        "developer-user",
        "shop/pr-7",
        {"deployment": again},
    )


async def test_production_is_redeployed_by_an_admin_only(served: Served):
    await served.deployed("production", "live")
    refused = await served.as_role("developer").post(
        "/projects/shop/environments/production/redeploy", data=CSRF
    )
    assert refused.status_code == 403 and "needs the admin role (yours: developer)" in refused.text

    again = _new_deployment(
        await served.as_role("admin").post("/projects/shop/environments/production/redeploy", data=CSRF)
    )

    assert (await served.finished(again)).state == "ready"
    assert (await served.visit("production")).text == "live"


async def test_rollback_puts_the_earlier_build_back(served: Served):
    first = await served.deployed("production", "version one")
    second = await served.deployed("production", "version two")
    admin = served.as_role("admin")
    asked = (await admin.get("/projects/shop/environments/production/rollback")).text
    assert f"Live now: #{second}" in asked and f"Comes back: #{first}" in asked

    back = _new_deployment(
        await admin.post("/projects/shop/environments/production/rollback", data=CONFIRMED)
    )

    row = await served.finished(back)
    assert (row.state, row.trigger, row.source_deployment_id) == ("ready", "rollback", first)
    assert (await served.visit("production")).text == "version one"


async def test_destroy_stops_the_app(served: Served):
    await served.deployed("pr-7", "doomed")
    assert (await served.visit("pr-7")).status_code == 200

    answer = await served.as_role("admin").post("/projects/shop/environments/pr-7/destroy", data=CONFIRMED)

    assert answer.status_code == 303
    assert (await served.visit("pr-7")).status_code == 404
    listed = (await served.as_role("viewer").get("/projects/shop")).text
    assert "pr-7" in listed and 'class="state destroyed"' in listed
    async with served.sessions() as session:
        env = await session.scalar(select(Environment).where(Environment.name == "pr-7"))
    assert env is not None and env.state == "destroyed"


async def test_cancel_stops_a_running_build_and_the_live_one_keeps_serving(served: Served):
    await served.deployed("pr-7", "still live")
    uploading = asyncio.create_task(
        served.deploy("pr-7", app_files("never", **{"autostack.yml": SLOW_BUILD}))
    )
    developer = served.as_role("developer")
    building = await served.started_building()
    page = (await developer.get(f"/deployments/{building}")).text
    assert f'action="/deployments/{building}/cancel"' in page

    answer = await developer.post(f"/deployments/{building}/cancel", data=CSRF)

    assert answer.status_code == 303
    lines = await asyncio.wait_for(uploading, 20)  # the upload's progress ends as the build stops
    assert lines[-1]["state"] == "cancelled" and lines[-1]["reason"] == "cancelled by developer-user"
    assert (await served.visit("pr-7")).text == "still live"
    assert "seconds" in (await served.finished(building)).phases["build"]  # the open phase closed
    after = (await developer.get(f"/deployments/{building}")).text
    assert "/cancel" not in after and f'action="/deployments/{building}/redeploy"' in after


async def test_a_failed_build_redeployed_once_its_missing_variable_is_set(served: Served):
    needs_token = (
        "build:\n  build: 'test -n \"$BUILD_TOKEN\" || { echo BUILD_TOKEN is not set; exit 1; }'\n"
        "  start: python3 app.py\n"
    )
    lines = await served.deploy("production", app_files("built", **{"autostack.yml": needs_token}))
    failed = int(lines[0]["id"])
    assert lines[-1]["state"] == "failed"
    admin = served.as_role("admin")
    set_var = await admin.post(
        "/projects/shop/env/set", data={**CSRF, "key": "BUILD_TOKEN", "value": "t0k", "scope": "production"}
    )
    assert set_var.status_code == 303
    refused = await served.as_role("developer").post(f"/deployments/{failed}/redeploy", data=CSRF)
    assert refused.status_code == 403

    again = _new_deployment(await admin.post(f"/deployments/{failed}/redeploy", data=CSRF))

    assert (await served.finished(again)).state == "ready"
    assert (await served.visit("production")).text == "built"
    [entry] = await _activity(served, "redeploy")
    assert entry.details == {"deployment": again, "of": failed}


async def test_a_changed_variable_reaches_the_app_through_the_offered_redeploy(served: Served):
    await served.deployed("pr-7", "ignored")  # makes the project; the next build shows GREETING
    await served.deploy("pr-7", app_files_showing("GREETING"))
    assert (await served.visit("pr-7")).text == "unset"
    developer = served.as_role("developer")
    await developer.post(
        "/projects/shop/env/set", data={**CSRF, "key": "GREETING", "value": "hi there", "scope": "preview"}
    )
    page = (await developer.get("/projects/shop/env")).text
    notice = page.split('id="redeploy-pr-7">')[1].split("</div>")[0]
    assert "pr-7 runs with older variables" in notice
    action = notice.split('action="')[1].split('"')[0]

    again = _new_deployment(await developer.post(action, data=CSRF))

    assert (await served.finished(again)).state == "ready"
    assert (await served.visit("pr-7")).text == "hi there"
    assert 'id="redeploy-pr-7"' not in (await developer.get("/projects/shop/env")).text


async def test_a_verified_domain_reaches_the_app_until_it_is_removed(served: Served):
    await served.deployed("production", "on my domain")
    admin = served.as_role("admin")
    await admin.post("/projects/shop/domains/add", data={**CSRF, "hostname": "www.example.com"})
    assert (await served.visit_host("www.example.com")).status_code == 404
    with dns_server() as (zone, address):
        served.page.nameservers = address
        page = (await admin.get("/projects/shop/domains")).text
        txt = page.split('_autostack.www.example.com TXT "')[1].split('"')[0]
        zone.records[("_autostack.www.example.com", "TXT")] = txt
        verified = await admin.post(
            "/projects/shop/domains/verify", data={**CSRF, "hostname": "www.example.com"}
        )
    assert verified.status_code == 303

    assert (await served.visit_host("www.example.com")).text == "on my domain"
    # the deploy worker was told too: on a cluster it is what puts the domain on the Ingress
    assert await served.jobs_done("refresh_domains", count=1) == [("shop", "production")]
    await admin.post("/projects/shop/domains/remove", data={**CSRF, "hostname": "www.example.com"})
    assert (await served.visit_host("www.example.com")).status_code == 404
    assert await served.jobs_done("refresh_domains", count=2) == [("shop", "production")] * 2
