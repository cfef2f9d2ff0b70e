"""`autostack` as a user runs it (a subprocess) against a running server: upload, progress, URL;
ls, logs, rollback, destroy, login; what it prints, and its exit codes."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import uvicorn
from sqlalchemy import select

from bot.api_deploy import DeployService
from bot.web import web_app
from bot.web.context import OAuthClient, WebState
from bot.web.team_store import token_hash
from deployer.pipeline import run_deployment
from store.encryption import KeyRing
from store.models import ApiToken, Deployment, Installation, Project, Team
from tests.web.harness import settings_for

pytestmark = pytest.mark.slow
TOKEN = "test-admin-token"


@pytest.fixture
async def server(deployer, tmp_path, monkeypatch):
    """The page's app (and its /api/v1) over a real local target, with the local admin token."""
    tasks: list[asyncio.Task] = []

    async def enqueue(deployment_id: int) -> None:
        tasks.append(
            asyncio.create_task(
                run_deployment(
                    deployer.sessions,
                    deployment_id,
                    deployer.sink,
                    deployer.target,
                    work_dir=tmp_path / "work",
                )
            )
        )

    settings = settings_for(tmp_path / "data")
    deploy = DeployService(
        deployer.sessions, tmp_path / "data", enqueue, deployer.target, deployer.sink, admin_token=TOKEN
    )
    state = WebState(
        settings, deployer.sessions, KeyRing(settings.secret_keys), OAuthClient(None), deploy=deploy
    )
    config = uvicorn.Config(
        web_app(state), host="127.0.0.1", port=0, lifespan="off", ws="none", log_level="warning"
    )
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.02)
    monkeypatch.setenv("AUTOSTACK_TOKEN", TOKEN)
    # never the user's own saved login
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AUTOSTACK_URL", raising=False)
    yield f"http://127.0.0.1:{web.servers[0].sockets[0].getsockname()[1]}"
    web.should_exit = True
    await task
    await asyncio.gather(*tasks)


def _run(*argv: str, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        timeout=180,
    )


async def cli(*argv: str, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot.cli ARGV` (what the console script runs) without blocking the server."""
    return await asyncio.to_thread(_run, *argv, cwd=cwd, stdin=stdin)


async def _cli(*argv: str) -> int:
    done = await cli(*argv)
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    assert "Traceback" not in done.stderr
    return done.returncode


async def test_deploy_ls_logs_rollback_destroy(server, deployer, app_copy, capsys):
    v1 = app_copy("static", "site")
    code = await _cli("deploy", str(v1), "--server", server)

    out = capsys.readouterr().out
    assert code == 0
    assert "── build" in out and f"ready: http://site.localhost:{deployer.target.router_port}" in out
    (v1 / "index.html").write_text("<h1>v2</h1>")
    assert await _cli("deploy", str(v1), "--server", server) == 0
    assert "v2" in (await deployer.get("site")).text

    assert await _cli("ls", "--server", server) == 0
    listing = capsys.readouterr().out
    assert listing.count("site ") == 2 and "ready" in listing
    assert await _cli("logs", "1", "--server", server) == 0
    assert "found index.html and no build files" in capsys.readouterr().out

    assert await _cli("rollback", "production", "--project", "site", "--server", server) == 0
    assert "Hello from a static site" in (await deployer.get("site")).text
    assert await _cli("destroy", "production", "--project", "site", "--yes", "--server", server) == 0
    assert (await deployer.get("site")).status_code == 404


async def test_bad_token_and_bad_names_are_refused(server, app_copy, monkeypatch, capsys):
    assert await _cli("deploy", str(app_copy("static")), "--env", "staging!", "--server", server) == 2
    assert "environment 'staging!' is not allowed" in capsys.readouterr().err
    monkeypatch.setenv("AUTOSTACK_TOKEN", "wrong")
    assert await _cli("ls", "--server", server) == 1
    assert "missing or unknown API key" in capsys.readouterr().err
    assert await _cli("destroy", "production", "--project", "../x", "--server", server) == 2
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
    refused = await _cli("deploy", str(site), "--server", server)
    assert refused == 1
    assert (
        "deploying to production needs the admin role (yours: developer) (HTTP 403)"
        in capsys.readouterr().err
    )
    new = await _cli("deploy", str(site), "--env", "preview", "--server", server)
    assert new == 1
    assert "no project 'site' in this key's team; only admin and owner keys" in capsys.readouterr().err

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(deployer, "admin", 8))
    assert await _cli("deploy", str(site), "--server", server) == 0
    async with deployer.sessions() as session:
        project = await session.scalar(select(Project).where(Project.name == "site"))
        actors = (await session.scalars(select(Deployment.actor))).all()
    assert project.installation_id == 8 and actors == ["api:ci-admin"]
    assert "ready: http://site.localhost" in capsys.readouterr().out

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(deployer, "owner", 9))
    assert await _cli("ls", "--server", server) == 0
    assert "site" not in capsys.readouterr().out
    assert await _cli("destroy", "production", "--project", "site", "--yes", "--server", server) == 1
    assert "site has no environment 'production' (HTTP 404)" in capsys.readouterr().err
    assert (await deployer.get("site")).status_code == 200
