"""The JSON API's deploy actions as a script runs them, against what `serve` runs: an upload's
progress to the end, redeploy, rollback, promote, destroy and a domain's verification, each
through the job queue and the deploy worker, and what the app then answers. On both backends."""

from __future__ import annotations

from sqlalchemy import select

from store.models import AuditEvent
from tests.web.dns_server import dns_server
from tests.wired import Served, app_files

ENV = "/api/v1/projects/shop/environments"


async def _activity(served: Served, action: str) -> list[AuditEvent]:
    async with served.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _call(served: Served, role: str, method: str, path: str, **kwargs):
    client = served.as_role(role)
    client.cookies.clear()
    return await client.request(method, path, headers=await served.bearer(role), **kwargs)


async def test_an_upload_streams_its_build_until_the_app_is_live(served: Served):
    lines = await served.deploy("pr-7", app_files("uploaded"), role="developer")

    kinds = [line["type"] for line in lines]
    assert kinds[0] == "deployment" and kinds[-1] == "finished" and "log" in kinds
    assert {"type": "phase", "phase": "build"} in lines
    finished = lines[-1]
    assert finished["state"] == "ready" and finished["url"] == served.target.url_for("shop", "pr-7")
    assert (await served.visit("pr-7")).text == "uploaded"
    [entry] = await _activity(served, "deploy")
    assert (entry.actor, entry.target) == ("api:ci-developer", "shop/pr-7")


async def test_redeploy(served: Served):
    await served.deployed("pr-7", "once more")
    refused = await _call(served, "viewer", "POST", f"{ENV}/pr-7/redeploy")
    assert refused.status_code == 403

    queued = await _call(served, "developer", "POST", f"{ENV}/pr-7/redeploy")

    assert queued.status_code == 202 and queued.json()["state"] == "queued"
    row = await served.finished(queued.json()["deployment"])
    assert (row.state, row.actor) == ("ready", "api:ci-developer")
    assert (await served.visit("pr-7")).text == "once more"


async def test_rollback_to_an_earlier_build(served: Served):
    first = await served.deployed("pr-7", "one")
    await served.deployed("pr-7", "two")
    await served.deployed("pr-7", "three")

    rolled = await _call(served, "developer", "POST", f"{ENV}/pr-7/rollback", json={"deployment": first})

    assert rolled.status_code == 202
    row = await served.finished(rolled.json()["deployment"])
    assert (row.state, row.trigger, row.source_deployment_id) == ("ready", "rollback", first)
    assert (await served.visit("pr-7")).text == "one"
    assert [e.actor for e in await _activity(served, "rollback")] == ["api:ci-developer"]


async def test_promote_puts_a_preview_build_into_production(served: Served):
    await served.deployed("production", "old production")
    preview = await served.deployed("pr-7", "reviewed")
    assert (
        await _call(served, "developer", "POST", f"/api/v1/deployments/{preview}/promote")
    ).status_code == 403

    promoted = await _call(served, "admin", "POST", f"/api/v1/deployments/{preview}/promote")

    assert promoted.status_code == 202 and promoted.json()["environment"] == "production"
    row = await served.finished(promoted.json()["deployment"])
    assert (row.state, row.trigger, row.source_deployment_id) == ("ready", "promote", preview)
    assert (await served.visit("production")).text == "reviewed"
    assert (await served.visit("pr-7")).text == "reviewed"


async def test_destroy(served: Served):
    await served.deployed("pr-7", "short-lived")
    assert (await _call(served, "developer", "DELETE", f"{ENV}/pr-7")).status_code == 403

    destroyed = await _call(served, "admin", "DELETE", f"{ENV}/pr-7")

    assert destroyed.status_code == 200 and destroyed.json() == {"destroyed": "shop/pr-7"}
    assert (await served.visit("pr-7")).status_code == 404
    again = await _call(served, "admin", "DELETE", f"{ENV}/pr-7")
    assert again.status_code == 409 and again.json() == {"error": "shop/pr-7 is already destroyed"}
    assert [(e.action, e.actor) for e in await _activity(served, "destroy")] == [("destroy", "api:ci-admin")]


async def test_a_verified_domain_reaches_the_app(served: Served):
    await served.deployed("production", "by name")
    domains = "/api/v1/projects/shop/domains"
    added = await _call(served, "admin", "POST", domains, json={"hostname": "shop.example.com"})
    assert added.status_code == 201
    with dns_server() as (zone, address):
        served.page.nameservers = address
        zone.records[("_autostack.shop.example.com", "TXT")] = added.json()["txt"]
        verified = await _call(served, "admin", "POST", f"{domains}/shop.example.com/verify")
    assert verified.json()["state"] == "verified"

    assert (await served.visit_host("shop.example.com")).text == "by name"
    assert await served.jobs_done("refresh_domains", count=1) == [("shop", "production")]
    removed = await _call(served, "admin", "DELETE", f"{domains}/shop.example.com")
    assert removed.status_code == 200
    assert (await served.visit_host("shop.example.com")).status_code == 404
