"""First login by repository permission: someone outside the installation's organisation (or not
the owner of a user installation) gets the role their best permission on the team's repositories
gives, asked of GitHub (the stand-in) as the installation; no permission is refused plainly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.web.context import OAuthClient
from store.models import Installation, Member, Project, Team
from tests.web import harness
from tests.web.test_auth import CLIENT_ID, CLIENT_SECRET, sign_in


@pytest.fixture
async def repo_web(sessions, tmp_path, github_standin, github_standin_server, github_app):
    state = harness.web_state(sessions, tmp_path, github_api_url=github_standin_server.url)
    state.oauth = OAuthClient(CLIENT_ID, CLIENT_SECRET)
    state.github = github_app
    github_standin.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    github_standin.installations[2] = "octocat"
    async with sessions.begin() as session:
        session.add_all(
            [
                Installation(id=1, account_login="octo-org", account_type="Organization"),
                Installation(id=2, account_login="octocat", account_type="User"),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Project(name="shop", full_name="octo-org/shop", installation_id=1),
                Project(name="blog", full_name="octo-org/blog", installation_id=1),
                Project(name="dots", full_name="octocat/dots", installation_id=2),
            ]
        )
    return state


async def role_of(state, login: str) -> tuple[str, str]:
    async with state.sessions() as session:
        member, team = (
            await session.execute(
                select(Member, Team).join(Team, Team.id == Member.team_id).where(Member.github_login == login)
            )
        ).one()
    return member.role, team.name


@pytest.mark.parametrize(
    ("permission", "role"),
    [
        ("admin", "admin"),
        ("maintain", "admin"),
        ("write", "developer"),
        ("triage", "viewer"),
        ("read", "viewer"),
    ],
)
async def test_outside_collaborator_gets_the_role_of_their_permission(
    repo_web, github_standin, permission, role
):
    # an org admin has signed in already, so a repository admin does not become the owner
    github_standin.add_user("boss", orgs={"octo-org": "admin"})
    boss, _ = await sign_in(repo_web, github_standin, "boss")
    await boss.aclose()
    github_standin.add_user("dana")
    github_standin.permissions[("octo-org/blog", "dana")] = permission
    client, done = await sign_in(repo_web, github_standin, "dana")
    assert done.status_code == 303 and done.headers["location"] == "/"
    page = await client.get("/")
    assert page.status_code == 200 and "dana" in page.text
    assert await role_of(repo_web, "dana") == (role, "octo-org")
    asked = github_standin.calls_to("GET", "/collaborators/dana/permission")
    assert {c.path for c in asked} >= {
        "/repos/octo-org/shop/collaborators/dana/permission",
        "/repos/octo-org/blog/collaborators/dana/permission",
    }
    await client.aclose()


async def test_the_best_permission_over_the_repositories_wins(repo_web, github_standin):
    github_standin.add_user("erin")
    github_standin.permissions[("octo-org/shop", "erin")] = "read"
    github_standin.permissions[("octo-org/blog", "erin")] = "write"
    client, _ = await sign_in(repo_web, github_standin, "erin")
    assert await role_of(repo_web, "erin") == ("developer", "octo-org")
    assert (await client.get("/team")).status_code == 200
    await client.aclose()


async def test_a_user_installation_lets_collaborators_in_by_permission(repo_web, github_standin):
    github_standin.add_user("frank")
    github_standin.permissions[("octocat/dots", "frank")] = "triage"
    client, done = await sign_in(repo_web, github_standin, "frank")
    assert done.status_code == 303
    assert await role_of(repo_web, "frank") == ("viewer", "octocat")
    await client.aclose()


async def test_no_permission_anywhere_is_refused_with_a_clear_page(repo_web, github_standin):
    github_standin.add_user("mallory")
    client, done = await sign_in(repo_web, github_standin, "mallory")
    assert done.status_code == 403
    assert "mallory is not a member of any organisation" in done.text
    assert "no permission on its repositories" in done.text and "invitation link" in done.text
    assert (await client.get("/")).status_code == 303
    async with repo_web.sessions() as session:
        assert (await session.scalars(select(Member))).all() == []
    await client.aclose()


async def test_without_an_app_nobody_is_let_in_by_permission(repo_web, github_standin):
    repo_web.github = None
    github_standin.add_user("gus")
    github_standin.permissions[("octo-org/shop", "gus")] = "admin"
    _, done = await sign_in(repo_web, github_standin, "gus")
    assert done.status_code == 403
    assert github_standin.calls_to("GET", "/collaborators/") == []
