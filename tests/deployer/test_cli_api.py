"""`autostack deploy` against a running server: upload, progress, URL; ls, logs, rollback, destroy."""

from __future__ import annotations

import argparse
import asyncio

import pytest
import uvicorn
from starlette.applications import Starlette

from bot import cli_deploy
from bot.api_deploy import DeployService, routes
from deployer.pipeline import run_deployment

pytestmark = pytest.mark.slow
TOKEN = "test-admin-token"


@pytest.fixture
async def server(deployer, tmp_path, monkeypatch):
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

    app = Starlette(routes=routes)
    app.state.deploy = DeployService(
        deployer.sessions, tmp_path / "data", enqueue, deployer.target, deployer.sink, admin_token=TOKEN
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", ws="none", log_level="warning")
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.02)
    monkeypatch.setenv("AUTOSTACK_TOKEN", TOKEN)
    yield f"http://127.0.0.1:{web.servers[0].sockets[0].getsockname()[1]}"
    web.should_exit = True
    await task
    await asyncio.gather(*tasks)


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
        == 1
    )
    assert "environment 'staging!' is not allowed" in capsys.readouterr().err
    monkeypatch.setenv("AUTOSTACK_TOKEN", "wrong")
    assert await asyncio.to_thread(_cli, "ls", "--server", server) == 1
    assert "missing or unknown API token" in capsys.readouterr().err
