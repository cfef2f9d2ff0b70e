"""End to end: GitHub delivering the same push twice deploys it once."""

from __future__ import annotations

import json

from tests.conftest import signed_headers
from tests.handlers.doubles import push
from tests.handlers.e2e_harness import E2E

SHA = "9a" * 20


async def test_the_same_delivery_twice_deploys_once(e2e: E2E):
    page = e2e.commit(SHA)
    body = push(sha=SHA, pushed_at=1_700_000_000)
    await e2e.deliver("push", body, delivery_id="delivery-1")

    again = await e2e.post("push", body, delivery_id="delivery-1")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    await e2e.settle()

    [deployment] = await e2e.deployments("production")
    assert (deployment.commit_sha, deployment.state, deployment.delivery_id) == (SHA, "ready", "delivery-1")
    assert len(e2e.check_runs("AutoStack / production")) == 1
    assert len(e2e.github.deployments) == 1
    assert [d.delivery_id for d in await e2e.intake.deliveries()] == ["delivery-1"]
    assert (await e2e.get("production")).text == page


async def test_the_same_event_under_a_new_delivery_id_is_processed(e2e: E2E):
    page = e2e.commit(SHA)
    body = push(sha=SHA, pushed_at=1_700_000_000)
    await e2e.deliver("push", body, delivery_id="delivery-1")
    await e2e.deliver("push", body, delivery_id="delivery-2")

    # a new id is a new delivery: it is handled (not mistaken for a duplicate) and, being
    # as new as the last push (same pushed_at), deploys the same commit again
    deliveries = await e2e.intake.deliveries()
    assert [(d.delivery_id, d.state) for d in deliveries] == [("delivery-1", "done"), ("delivery-2", "done")]
    deployments = await e2e.deployments("production")
    assert [(d.delivery_id, d.commit_sha, d.state) for d in deployments] == [
        ("delivery-1", SHA, "ready"),
        ("delivery-2", SHA, "ready"),
    ]
    assert (await e2e.get("production")).text == page


async def test_a_signature_for_other_bytes_is_refused(e2e: E2E):
    raw = json.dumps(push(sha=SHA)).encode()
    headers = signed_headers(raw + b" ", "push")
    response = await e2e.intake.post(raw, headers)
    assert response.status_code == 401
    await e2e.settle()
    assert await e2e.deployments() == [] and e2e.github.calls == []
