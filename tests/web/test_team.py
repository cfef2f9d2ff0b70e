"""Team page: invitations by link and by SES email (moto), roles, removal, API keys, activity."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select

from bot.web.mail import SesMailer
from bot.web.roles import allows, may_assign, role_from_github
from store.models import ApiToken, AuditEvent, Invitation, Member

CSRF = "test-csrf"


@pytest.mark.parametrize(
    ("actor", "role", "ok"),
    [
        ("owner", "owner", True),
        ("admin", "owner", False),
        ("admin", "admin", True),
        ("admin", "viewer", True),
        ("developer", "viewer", False),
        ("viewer", "viewer", False),
        ("owner", "superuser", False),
    ],
)
def test_may_assign(actor, role, ok):
    assert may_assign(actor, role) is ok


@pytest.mark.parametrize(
    ("org", "repo", "role"),
    [
        ("admin", None, "admin"),
        ("member", None, "developer"),
        (None, "maintain", "admin"),
        (None, "write", "developer"),
        (None, "read", "viewer"),
        (None, None, None),
    ],
)
def test_role_from_github(org, repo, role):
    assert role_from_github(org, repo) == role


def test_unknown_permission_is_denied():
    assert not allows("owner", "no.such.permission") and not allows("root", "projects.view")


async def test_invite_by_link_shows_it_once_and_stores_only_a_hash(as_role, seeded, web):
    page = await as_role("admin").post("/team/invite", data={"csrf": CSRF, "role": "developer"})
    link = page.text.split('<code class="link-box">')[1].split("<")[0]
    token = link.rsplit("/", 1)[1]
    async with web.sessions() as session:
        invitation = (await session.scalars(select(Invitation))).one()
    assert token not in invitation.token_hash and invitation.role == "developer"
    assert token not in (await as_role("admin").get("/team")).text


async def test_invite_by_email_through_ses(as_role, seeded, web):
    with mock_aws():
        client = boto3.client("ses", region_name="eu-west-1")
        client.verify_email_identity(EmailAddress="autostack@example.com")
        web.mailer = SesMailer("eu-west-1", "autostack@example.com", client)
        page = await as_role("admin").post(
            "/team/invite", data={"csrf": CSRF, "role": "viewer", "email": "new@example.com"}
        )
        assert "Emailed to new@example.com" in page.text
        sent = client.get_send_quota()["SentLast24Hours"]
    assert sent == 1


async def test_ses_refusal_is_reported(as_role, seeded, web):
    with mock_aws():
        web.mailer = SesMailer("eu-west-1", "unverified@example.com")
        page = await as_role("admin").post(
            "/team/invite", data={"csrf": CSRF, "role": "viewer", "email": "x@example.com"}
        )
    assert "through SES failed" in page.text and "/invite/" in page.text


async def test_admin_cannot_invite_owner(as_role, seeded):
    page = await as_role("admin").post("/team/invite", data={"csrf": CSRF, "role": "owner"})
    assert page.status_code == 403


async def test_roles_change_and_last_owner_stays(as_role, seeded, web):
    async with web.sessions() as session:
        members = {m.role: m.id for m in (await session.scalars(select(Member))).all()}
    changed = await as_role("admin").post(
        "/team/role", data={"csrf": CSRF, "member": members["viewer"], "role": "developer"}
    )
    assert changed.status_code == 303
    refused = await as_role("admin").post(
        "/team/role", data={"csrf": CSRF, "member": members["owner"], "role": "viewer"}
    )
    assert refused.status_code == 403
    last = await as_role("owner").post(
        "/team/role", data={"csrf": CSRF, "member": members["owner"], "role": "admin"}
    )
    assert last.status_code == 409 and "last owner" in last.text
    removed = await as_role("admin").post("/team/remove", data={"csrf": CSRF, "member": members["developer"]})
    assert removed.status_code == 303
    async with web.sessions() as session:
        roles = sorted(m.role for m in (await session.scalars(select(Member))).all())
        actions = [
            e.action for e in (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        ]
    assert roles == ["admin", "developer", "owner"]
    assert actions == ["member.role", "member.remove"]
    activity = await as_role("admin").get("/team/activity")
    assert "member.remove" in activity.text and "127.0.0.1" in activity.text


async def test_api_key_is_shown_once_and_stored_hashed(as_role, seeded, web):
    page = await as_role("admin").post("/team/tokens", data={"csrf": CSRF, "name": "ci", "role": "developer"})
    token = page.text.split('id="new-token"')[1].split('<code class="link-box">')[1].split("<")[0]
    assert token.startswith("as_")
    async with web.sessions() as session:
        row = (await session.scalars(select(ApiToken))).one()
    assert row.token_hash != token and row.team_id == seeded.team_id
