"""`autostack` as a user runs it (a subprocess) against a running server: upload, progress, URL;
ls, logs, rollback, destroy, login; what it prints, and its exit codes."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from store.models import ApiToken, Deployment, Installation, Project, Team
from store.teams import token_hash
from tests.deployer.conftest import API_TOKEN
from tests.wired import Served

pytestmark = pytest.mark.slow


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


async def test_deploy_ls_logs_rollback_destroy(server, app_copy, capsys):
    v1 = app_copy("static", "site")
    code = await _cli("deploy", str(v1), "--server", server.url)

    out = capsys.readouterr().out
    assert code == 0
    assert "── build" in out and f"ready: http://site.localhost:{server.served.target.router_port}" in out
    (v1 / "index.html").write_text("<h1>v2</h1>")
    assert await _cli("deploy", str(v1), "--server", server.url) == 0
    assert "v2" in (await server.get("site")).text

    assert await _cli("ls", "--server", server.url) == 0
    listing = capsys.readouterr().out
    assert listing.count("site ") == 2 and "ready" in listing
    assert await _cli("logs", "1", "--server", server.url) == 0
    assert "found index.html and no build files" in capsys.readouterr().out

    assert await _cli("rollback", "production", "--project", "site", "--server", server.url) == 0
    assert "Hello from a static site" in (await server.get("site")).text
    assert await _cli("destroy", "production", "--project", "site", "--yes", "--server", server.url) == 0
    assert (await server.get("site")).status_code == 404


async def test_bad_token_and_bad_names_are_refused(server, app_copy, monkeypatch, capsys):
    assert await _cli("deploy", str(app_copy("static")), "--env", "staging!", "--server", server.url) == 2
    assert "environment 'staging!' is not allowed" in capsys.readouterr().err
    monkeypatch.setenv("AUTOSTACK_TOKEN", "wrong")
    assert await _cli("ls", "--server", server.url) == 1
    assert "missing or unknown API key" in capsys.readouterr().err
    assert await _cli("destroy", "production", "--project", "../x", "--server", server.url) == 2
    assert "project '../x' is not allowed" in capsys.readouterr().err


async def _team_key(served: Served, role: str, installation: int) -> str:
    async with served.sessions.begin() as session:
        session.add(Installation(id=installation, account_login=f"org-{installation}"))
        await session.flush()
        team = Team(name=f"org-{installation}", installation_id=installation)
        session.add(team)
        await session.flush()
        key = f"key-{role}-{installation}"
        session.add(ApiToken(team_id=team.id, name=f"ci-{role}", token_hash=token_hash(key), role=role))
    return key


async def test_team_keys_deploy_only_as_their_role_allows(server, app_copy, monkeypatch, capsys):
    site = app_copy("static", "site")
    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(server.served, "developer", 7))
    refused = await _cli("deploy", str(site), "--server", server.url)
    assert refused == 1
    assert (
        "deploying to production needs the admin role (yours: developer) (HTTP 403)"
        in capsys.readouterr().err
    )
    new = await _cli("deploy", str(site), "--env", "preview", "--server", server.url)
    assert new == 1
    assert "no project 'site' in this key's team; only admin and owner keys" in capsys.readouterr().err

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(server.served, "admin", 8))
    assert await _cli("deploy", str(site), "--server", server.url) == 0
    async with server.served.sessions() as session:
        project = await session.scalar(select(Project).where(Project.name == "site"))
        actors = (await session.scalars(select(Deployment.actor))).all()
    assert project.installation_id == 8 and actors == ["api:ci-admin"]
    assert "ready: http://site.localhost" in capsys.readouterr().out

    monkeypatch.setenv("AUTOSTACK_TOKEN", await _team_key(server.served, "owner", 9))
    assert await _cli("ls", "--server", server.url) == 0
    assert "site" not in capsys.readouterr().out
    assert await _cli("destroy", "production", "--project", "site", "--yes", "--server", server.url) == 1
    assert "site has no environment 'production' (HTTP 404)" in capsys.readouterr().err
    assert (await server.get("site")).status_code == 200


async def test_table_live_marker_json_and_destroy_confirmation(server, app_copy):
    site = app_copy("static", "site")
    assert (await cli("deploy", str(site), "--server", server.url)).returncode == 0
    assert (await cli("deploy", str(site), "--server", server.url)).returncode == 0

    listing = await cli("ls", "--server", server.url)
    assert listing.returncode == 0
    header, newest, older = listing.stdout.splitlines()
    assert header.split() == ["LIVE", "PROJECT", "ENV", "ID", "STATE", "SOURCE", "AGE", "DURATION", "URL"]
    assert newest.split()[:5] == ["*", "site", "production", "2", "ready"]
    assert older.split()[:4] == ["site", "production", "1", "superseded"] and "ago" in older
    rows = json.loads((await cli("ls", "--json", "--server", server.url)).stdout)
    assert [(r["id"], r["live"], r["shown_state"]) for r in rows] == [
        (2, True, "ready"),
        (1, False, "superseded"),
    ]

    missing = await cli("ls", "--project", "nope", "--server", server.url)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "autostack: no project named 'nope' in this token's team\n"
    gone = await cli("logs", "9999", "--server", server.url)
    assert (gone.returncode, gone.stdout) == (1, "")
    assert gone.stderr.count("\n") == 1 and "9999" in gone.stderr

    refused = await cli("destroy", "production", "--project", "site", "--server", server.url)
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert (await server.get("site")).status_code == 200
    done = await cli("destroy", "production", "--project", "site", "--yes", "--server", server.url)
    assert done.returncode == 0 and done.stdout.startswith("Destroyed site/production:")
    again = await cli("destroy", "production", "--project", "site", "--yes", "--json", "--server", server.url)
    assert again.returncode == 1
    assert json.loads(again.stderr) == {"error": "site/production is already destroyed (HTTP 409)", "exit": 1}
    after = json.loads((await cli("ls", "--json", "--server", server.url)).stdout)
    assert {r["shown_state"] for r in after} == {"destroyed"} and not any(r["live"] for r in after)


async def test_closed_pipe_and_unreachable_server_end_without_traceback(server, app_copy, unused_tcp_port):
    assert (await cli("deploy", str(app_copy("static", "site")), "--server", server.url)).returncode == 0

    def closed_early() -> tuple[int, str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ls", "--server", server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        process.stdout.close()  # like `| head -0`: the reader is gone before the table is written
        with process.stderr:
            return process.wait(timeout=60), process.stderr.read()

    code, err = await asyncio.to_thread(closed_early)
    assert (code, err) == (141, "")

    down = await cli("ls", "--server", f"http://127.0.0.1:{unused_tcp_port}")
    assert down.returncode == 3 and down.stdout == ""
    assert down.stderr.count("\n") == 1 and "cannot reach AutoStack at http://127.0.0.1:" in down.stderr


async def test_login_saves_a_private_file_and_deploys_from_anywhere(server, app_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOSTACK_TOKEN")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = app_copy("static", "site")
    before = await cli("deploy", str(site), cwd=elsewhere)
    assert before.returncode == 1 and "no API token for http://127.0.0.1:3000" in before.stderr

    wrong = await cli("login", "--url", server.url, "--token", "-", stdin="not-the-key\n", cwd=elsewhere)
    assert wrong.returncode == 1 and "missing or unknown API key" in wrong.stderr
    assert not (tmp_path / "config" / "autostack").exists()
    login = await cli("login", "--url", server.url, "--token", "-", stdin=f"{server.token}\n", cwd=elsewhere)
    assert login.returncode == 0 and "token accepted" in login.stdout
    assert server.token not in login.stdout + login.stderr
    saved = tmp_path / "config" / "autostack" / "config.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert json.loads(saved.read_text()) == {"url": server.url, "token": server.token}

    deployed = await cli("deploy", cwd=site)
    assert deployed.returncode == 0 and "ready: http://site.localhost" in deployed.stdout
    assert (await cli("logout", cwd=elsewhere)).returncode == 0 and not saved.exists()
    assert (await cli("ls", cwd=elsewhere)).returncode == 1


def test_a_server_that_goes_away_mid_stream_is_one_line_and_exit_3(monkeypatch):
    monkeypatch.setenv("AUTOSTACK_TOKEN", API_TOKEN)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)

    def answer_then_vanish() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        line = b'{"type":"deployment","id":1}\n'
        conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (len(line), line))
        conn.close()

    thread = threading.Thread(target=answer_then_vanish)
    thread.start()
    done = _run("logs", "1", "--follow", "--server", f"http://127.0.0.1:{listener.getsockname()[1]}")
    thread.join()
    listener.close()
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "lost the connection to AutoStack" in done.stderr
