"""Sign-in: GitHub OAuth against the stand-in, roles from the org, invitations, local admin link."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.web.context import OAuthClient
from bot.web.identity import github_web_url
from store import teams
from store.activity import Actor
from store.models import Installation, Member, Team
from tests.web import harness

CLIENT_ID, CLIENT_SECRET = "Iv1.test", "client-secret"


@pytest.fixture
async def oauth_web(sessions, tmp_path, github_standin, github_standin_server):
    state = harness.web_state(sessions, tmp_path, github_api_url=github_standin_server.url)
    state.oauth = OAuthClient(CLIENT_ID, CLIENT_SECRET)
    github_standin.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    async with sessions.begin() as session:
        session.add(Installation(id=1, account_login="octo-org", account_type="Organization"))
    return state


async def sign_in(
    state, standin, login: str, client: httpx.AsyncClient | None = None
) -> tuple[httpx.AsyncClient, httpx.Response]:
    """Follow the whole OAuth dance the way a browser would."""
    standin.oauth_login = login
    client = client or harness.client(state)
    start = await client.get("/login/github")
    assert start.status_code == 303
    async with httpx.AsyncClient() as github:
        back = await github.get(start.headers["location"])
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    done = await client.get(f"{callback.path}?{callback.query}")
    return client, done


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
    ],
)
def test_github_web_url(api, web):
    assert github_web_url(api) == web


async def test_org_admin_becomes_owner_then_members_developers(oauth_web, github_standin):
    github_standin.add_user("alice", orgs={"octo-org": "admin"})
    github_standin.add_user("bob", orgs={"octo-org": "member"})
    alice, done = await sign_in(oauth_web, github_standin, "alice")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "alice" in (await alice.get("/")).text
    bob, _ = await sign_in(oauth_web, github_standin, "bob")
    async with oauth_web.sessions() as session:
        roles = dict((await session.execute(select(Member.github_login, Member.role))).all())
        team = (await session.scalars(select(Team))).one()
    assert roles == {"alice": "owner", "bob": "developer"} and team.name == "octo-org"
    assert (await bob.get("/team")).status_code == 200
    await alice.aclose()
    await bob.aclose()


async def test_stranger_is_refused(oauth_web, github_standin):
    github_standin.add_user("mallory")
    client, done = await sign_in(oauth_web, github_standin, "mallory")
    assert done.status_code == 403 and "invitation" in done.text
    assert (await client.get("/")).status_code == 303
    await client.aclose()


async def test_state_mismatch_is_refused(oauth_web):
    async with harness.client(oauth_web) as client:
        await client.get("/login/github")
        response = await client.get("/login/callback?code=x&state=forged")
    assert response.status_code == 400


async def test_invitation_link_is_single_use(oauth_web, github_standin):
    async with oauth_web.sessions.begin() as session:
        team = Team(name="local")
        session.add(team)
        await session.flush()
    token = await teams.invite(oauth_web.sessions, Actor("admin", team.id), "viewer")
    github_standin.add_user("carol")
    client = harness.client(oauth_web)
    opened = await client.get(f"/invite/{token}")
    assert opened.headers["location"] == "/login/github"
    _, done = await sign_in(oauth_web, github_standin, "carol", client)
    assert done.status_code == 303
    async with oauth_web.sessions() as session:
        carol = await session.scalar(select(Member).where(Member.github_login == "carol"))
    assert carol.role == "viewer" and carol.team_id == team.id
    async with harness.client(oauth_web) as other:
        assert (await other.get(f"/invite/{token}")).status_code == 410
    await client.aclose()


async def test_local_admin_link_works_once(web):
    web.login_token = "one-time"
    async with harness.client(web) as client:
        signed_in = await client.get("/login/local?token=one-time")
        assert signed_in.status_code == 303
        assert "admin" in (await client.get("/")).text
        csrf = client.cookies.get("autostack_session")
        assert csrf
        page = await client.get("/team")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        out = await client.post("/logout", data={"csrf": token})
        assert out.headers["location"] == "/login"
        assert (await client.get("/")).status_code == 303
    async with harness.client(web) as again:
        assert (await again.get("/login/local?token=one-time")).status_code == 403


async def test_session_cookie_flags(web):
    web.login_token = "t"
    async with harness.client(web) as client:
        response = await client.get("/login/local?token=t")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # served over http here; https base URLs get Secure
