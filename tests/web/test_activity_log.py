"""CLI deploys and API actions by a team's key show on the team's activity log, like the page's
own actions, through the page `serve` runs, on both backends."""

from __future__ import annotations

import io
import tarfile

from sqlalchemy import select

from store.models import AuditEvent
from tests.wired import Served


def _tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        page = b"<h1>hi</h1>"
        info = tarfile.TarInfo("index.html")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
    return buffer.getvalue()


def _rows(html: str) -> list[str]:
    return html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]


async def test_cli_deploy_and_api_rollback_are_on_the_teams_log(served: Served):
    admin = served.as_role("admin")
    bearer = await served.bearer("admin")
    uploaded = await admin.post(
        "/api/v1/projects/shop/environments/pr-7/deployments",
        content=_tarball(),
        headers={**bearer, "content-type": "application/gzip"},
    )
    assert uploaded.status_code == 200, uploaded.text
    refused = await admin.post("/api/v1/projects/shop/environments/pr-1/rollback", json={}, headers=bearer)
    assert refused.status_code == 409  # nothing earlier to roll back to: not logged
    destroyed = await admin.post(
        "/projects/shop/environments/pr-1/destroy", data={"csrf": "test-csrf", "confirmed": "yes"}
    )
    assert destroyed.status_code == 303

    rows = _rows((await admin.get("/team/activity")).text)
    assert "<td>admin-user</td><td>destroy</td><td>shop/pr-1</td>" in rows[0]
    assert "<td>api:ci-admin</td><td>deploy</td><td>shop/pr-7</td>" in rows[1]
    async with served.sessions() as session:
        entries = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert {e.team_id for e in entries} == {served.seed.team_id}
    assert [e.action for e in entries] == ["deploy", "destroy"]
