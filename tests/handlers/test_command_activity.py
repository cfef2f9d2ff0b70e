"""Pull-request commands land in the team's activity log, next to what the page records."""

from __future__ import annotations

from sqlalchemy import select

from store.models import AuditEvent, Project, Team
from tests.handlers.doubles import push
from tests.handlers.e2e_harness import E2E
from tests.handlers.test_e2e_commands import SHA_MAIN1, SHA_MAIN2, open_pull_request


async def _team_of_the_repository(e2e: E2E) -> int:
    async with e2e.services.sessions.begin() as session:
        project = (await session.scalars(select(Project))).one()
        team = Team(installation_id=project.installation_id, name="octo")
        session.add(team)
        await session.flush()
        return team.id


async def test_commands_that_change_something_are_logged(e2e: E2E):
    e2e.grant("boss", "maintain")
    e2e.commit(SHA_MAIN1)
    e2e.commit(SHA_MAIN2)
    await e2e.deliver("push", push(sha=SHA_MAIN1, pushed_at=1_700_000_000))
    await e2e.deliver("push", push(sha=SHA_MAIN2, pushed_at=1_700_000_060))
    await open_pull_request(e2e)
    team_id = await _team_of_the_repository(e2e)

    for command in ("/rollback", "/promote", "/status", "/destroy"):
        await e2e.comment(command, "boss")

    async with e2e.services.sessions() as session:
        entries = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    seen = [
        (e.action, e.actor, e.target, e.details["command"], e.details["done"], e.details["pr"])
        for e in entries
    ]
    assert seen == [
        ("rollback", "boss", "hello-world", "/rollback", True, 2),
        ("promote", "boss", "hello-world", "/promote", True, 2),
        ("destroy", "boss", "hello-world", "/destroy", True, 2),
    ]
    assert {e.team_id for e in entries} == {team_id}
