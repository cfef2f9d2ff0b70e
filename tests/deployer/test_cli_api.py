"""`autostack deploy` against a running server: upload, progress, URL; ls, logs, rollback, destroy."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from sqlalchemy import select

from bot import cli_deploy
from bot.web.team_store import token_hash
from store.models import ApiToken, Deployment, Installation, Project, Team

pytestmark = pytest.mark.slow


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_deploy.add_commands(parser.add_subparsers(dest="command"))
    return cli_deploy.run(parser.parse_args(list(argv)))


async def test_deploy_ls_logs_rollback_destroy(server, deployer, app_copy, capsys):
    v1 = app_copy("static", "site")
    code = await asyncio.to_thread(_cli, "deploy", str(v1), "--server", server)

    out = capsys.readouterr().out
    assert code == 0
    assert "── build" in out and f"ready: http://site.localhost:{deployer.target.router_port}" in out
    (v1 / "index.html").write_text("<h1>v2</h1>")
    assert await asyncio.to_thread(_cli, "deploy", str(v1), "--server", server) == 0
    assert "v2" in (await deployer.get("site")).text

    assert await asyncio.to_thread(_cli, "ls", "--server", server) == 0
    listing = capsys.readouterr().out
    assert listing.count("site ") == 2 and "ready" in listing
    assert await asyncio.to_thread(_cli, "logs", "1", "--server", server) == 0
    assert "found index.html and no build files" in capsys.readouterr().out

    assert (
        await asyncio.to_thread(_cli, "rollback", "production", "--project", "site", "--server", server) == 0
    )
    assert "Hello from a static site" in (await deployer.get("site")).text
    assert (
        await asyncio.to_thread(_cli, "destroy", "production", "--project", "site", "--server", server) == 0
    )
    assert (await deployer.get("site")).status_code == 404


async def test_bad_token_and_bad_names_are_refused(server, app_copy, monkeypatch, capsys):
    assert (
        await asyncio.to_thread(
            _cli, "deploy", str(app_copy("static")), "--env", "staging!", "--server", server
        )
        == 2
    )
    assert "environment 'staging!' is not allowed" in capsys.readouterr().err
    monkeypatch.setenv("AUTOSTACK_TOKEN", "wrong")
    assert await asyncio.to_thread(_cli, "ls", "--server", server) == 1
    assert "missing or unknown API key" in capsys.readouterr().err
    assert (
        await asyncio.to_thread(_cli, "destroy", "production", "--project", "../x", "--server", server) == 2
    )
    assert "project '../x' is not allowed" in capsys.readouterr().err


async def _team_key(deployer, role: str, installation: int) -> str:
    async with deployer.sessions.begin() as session:
        session.add(Installation(id=installation, account_login=f"org-{installation}"))
        await session.flush()
        team = Team(name=f"org-{installation}", installation_id=installation)
        session.add(team)
        await session.flush()
        key = f"key-{role}-{installation}"
        session.add(ApiToken(team_id=team.id, name=f"ci-{role}", token_hash=token_hash(key), role=role))
    return key


async def test_team_keys_deploy_only_as_their_role_allows(server, deployer, app_copy, monkeypatch, capsys):
    site = app_copy("static", "site")
    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(deployer, "developer", 7))
    refused = await asyncio.to_thread(_cli, "deploy", str(site), "--server", server)
    assert refused == 1
    assert (
        "deploying to production needs the admin role (yours: developer) (HTTP 403)"
        in capsys.readouterr().err
    )
    new = await asyncio.to_thread(_cli, "deploy", str(site), "--env", "preview", "--server", server)
    assert new == 1
    assert "no project 'site' in this key's team; only admin and owner keys" in capsys.readouterr().err

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(deployer, "admin", 8))
    assert await asyncio.to_thread(_cli, "deploy", str(site), "--server", server) == 0
    async with deployer.sessions() as session:
        project = await session.scalar(select(Project).where(Project.name == "site"))
        actors = (await session.scalars(select(Deployment.actor))).all()
    assert project.installation_id == 8 and actors == ["api:ci-admin"]
    assert "ready: http://site.localhost" in capsys.readouterr().out

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(deployer, "owner", 9))
    assert await asyncio.to_thread(_cli, "ls", "--server", server) == 0
    assert "site" not in capsys.readouterr().out
    assert (
        await asyncio.to_thread(_cli, "destroy", "production", "--project", "site", "--server", server) == 1
    )
    assert "site has no environment 'production' (HTTP 404)" in capsys.readouterr().err
    assert (await deployer.get("site")).status_code == 200
