"""A deployment's page: the phase timeline, Cancel while it runs, Redeploy when it failed, and
what the activity log saw. Cancel and Redeploy run against what `serve` runs (the `served`
fixture); a running build cancelled is in test_page_actions.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from store.models import AuditEvent, Deployment, utcnow
from tests.wired import Served

AT = datetime(2026, 1, 5, 9, 30, 0, tzinfo=UTC)


def _stamps(start: float, seconds: float | None) -> dict[str, object]:
    began = AT + timedelta(seconds=start)
    if seconds is None:
        return {"started_at": began.isoformat()}
    done = began + timedelta(seconds=seconds)
    return {
        "started_at": began.isoformat(),
        "finished_at": done.isoformat(),
        "seconds": seconds,
    }


async def _add(web, seeded, env: str = "pr-1", **fields) -> int:
    """A deployment row of shop (`web`: anything with `sessions`), building unless told."""
    env_id = seeded.preview_id if env == "pr-1" else seeded.production_id
    values = {"trigger": "push", "state": "building", "commit_sha": "b" * 40, "created_at": AT}
    values.update(fields)
    async with web.sessions.begin() as session:
        row = Deployment(project_id=seeded.project_id, environment_id=env_id, environment=env, **values)
        session.add(row)
        await session.flush()
        return row.id


async def _row(web, deployment_id: int) -> Deployment:
    async with web.sessions() as session:
        return await session.get(Deployment, deployment_id)


async def _activity(web, action: str) -> list[AuditEvent]:
    async with web.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_timeline_lists_each_phase_with_its_start_and_duration(as_role, web, seeded):
    phases = {
        "source": _stamps(2.0, 1.5),
        "install": _stamps(3.5, 12.25),
        "build": _stamps(15.75, 30.0),
        "start": _stamps(45.75, 4.25),
    }
    deployment_id = await _add(web, seeded, state="ready", phases=phases, ready_at=AT + timedelta(seconds=50))
    page = (await as_role("viewer").get(f"/deployments/{deployment_id}")).text

    rows = (
        page.split('<table class="list timeline" id="phases">')[1]
        .split("</table>")[0]
        .split("<tr data-phase=")[1:]
    )
    assert [r.split('"')[1] for r in rows] == ["source", "install", "build", "start"]
    install = rows[1]
    assert '<time datetime="2026-01-05T09:30:03.500000+00:00">09:30:03</time>' in install
    assert '<span class="took">+3.5 s</span>' in install  # after the deployment was created
    assert '<td class="took-cell"><span class="took">12.2 s</span></td>' in install
    # bars on one scale: the whole run is 48 s from source's start to start's end
    assert '<rect x="3.12" y="1" width="25.52"' in install
    assert '<rect x="91.15" y="1" width="8.85"' in rows[3]


async def test_a_running_phase_shows_it_is_still_running(as_role, web, seeded):
    started = utcnow() - timedelta(seconds=20)
    phases = {"build": {"started_at": started.isoformat()}}
    deployment_id = await _add(web, seeded, phases=phases, created_at=started)
    page = (await as_role("viewer").get(f"/deployments/{deployment_id}")).text

    build = page.split('<tr data-phase="build" class="running">')[1].split("</tr>")[0]
    seconds = float(build.split('<td class="took-cell"><span class="took">')[1].split(" s<")[0])
    assert 19.5 <= seconds < 60 and "</span> running</td>" in build


async def test_developer_cancels_a_queued_preview_build(served: Served):
    # queued, and no worker has it yet (its job is lost, say): the page ends it. Queued just now,
    # so the deploy worker's sweep (which queues again what waited over 5 s) leaves it alone
    deployment_id = await _add(served, served.seed, state="queued", created_at=utcnow())
    client = served.as_role("developer")
    page = (await client.get(f"/deployments/{deployment_id}")).text
    assert f'action="/deployments/{deployment_id}/cancel"' in page

    answer = await client.post(f"/deployments/{deployment_id}/cancel", data={"csrf": "test-csrf"})

    assert answer.status_code == 303 and answer.headers["location"] == f"/deployments/{deployment_id}"
    row = await _row(served, deployment_id)
    assert (row.state, row.reason) == ("cancelled", "cancelled by developer-user")
    assert row.finished_at is not None
    [entry] = await _activity(served, "cancel")
    assert (entry.actor, entry.target, entry.details) == (
        "developer-user",
        "shop/pr-1",
        {"deployment": deployment_id},
    )
    after = (await client.get(f"/deployments/{deployment_id}")).text
    assert "/cancel" not in after and f'action="/deployments/{deployment_id}/redeploy"' in after


async def test_production_cancel_needs_an_admin_and_a_finished_one_is_refused(as_role, web, seeded):
    running = await _add(web, seeded, env="production")
    refused = await as_role("developer").post(f"/deployments/{running}/cancel", data={"csrf": "test-csrf"})
    assert refused.status_code == 403 and "needs the admin role (yours: developer)" in refused.text
    assert (await _row(web, running)).state == "building"
    assert (
        'action="/deployments/' + str(running) + '/cancel"'
        not in (await as_role("developer").get(f"/deployments/{running}")).text
    )

    done = await as_role("admin").post(
        f"/deployments/{seeded.deployment_id}/cancel", data={"csrf": "test-csrf"}
    )
    assert done.status_code == 409
    assert (
        f"deployment {seeded.deployment_id} is already ready; only a running one can be cancelled"
        in done.text
    )


async def test_redeploy_of_a_failed_deployment_queues_its_commit_again(served: Served):
    failed = await _add(
        served,
        served.seed,
        state="failed",
        reason="build failed: x",
        ref="feature",
        pr_number=1,
        commit_message="fix",
    )
    client = served.as_role("developer")
    assert f'action="/deployments/{failed}/redeploy"' in (await client.get(f"/deployments/{failed}")).text

    answer = await client.post(f"/deployments/{failed}/redeploy", data={"csrf": "test-csrf"})

    assert answer.status_code == 303
    new_id = int(answer.headers["location"].rsplit("/", 1)[1])
    row = await _row(served, new_id)
    assert (row.state, row.environment, row.commit_sha, row.ref, row.pr_number) == (
        "queued",
        "pr-1",
        "b" * 40,
        "feature",
        1,
    )
    assert (row.trigger, row.actor, row.commit_message) == ("web", "developer-user", "fix")
    [entry] = await _activity(served, "redeploy")
    assert entry.details == {"deployment": new_id, "of": failed}
    # the deploy worker took it: the commit is not on GitHub here, so it fails again
    assert (await served.finished(new_id)).state == "failed"


async def test_redeploy_refuses_a_live_or_an_older_failed_deployment(as_role, web, seeded):
    older = await _add(web, seeded, state="failed")
    await _add(web, seeded, state="failed")
    client = as_role("developer")
    page = (await client.get(f"/deployments/{older}")).text
    assert f"/deployments/{older}/redeploy" not in page

    answer = await client.post(f"/deployments/{older}/redeploy", data={"csrf": "test-csrf"})
    assert answer.status_code == 409 and f"deployment {older + 1} is newer in pr-1" in answer.text

    live = await client.post(
        f"/deployments/{seeded.preview_deployment_id}/redeploy", data={"csrf": "test-csrf"}
    )
    assert live.status_code == 409 and "is ready; only a failed or cancelled deployment" in live.text


async def test_redeploy_of_failed_production_needs_an_admin(as_role, web, seeded):
    failed = await _add(web, seeded, env="production", state="failed")
    refused = await as_role("developer").post(f"/deployments/{failed}/redeploy", data={"csrf": "test-csrf"})
    assert refused.status_code == 403 and "needs the admin role (yours: developer)" in refused.text
