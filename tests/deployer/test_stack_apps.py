"""The apps in tests/fixtures/apps deploy untouched on the local target and run production servers."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from deployer.targets.local.router import hostname_for

pytestmark = pytest.mark.slow
APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


def _commands(deployer, project: str) -> list[str]:
    """Command lines of every process the app's supervisor started (its process group)."""
    release = deployer.target.live[hostname_for(project, "production")]
    group = release.supervisor.process.pid
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return found


async def _direct(deployer, project: str, path: str = "/") -> httpx.Response:
    release = deployer.target.live[hostname_for(project, "production")]
    async with httpx.AsyncClient() as client:
        return await client.get(release.address + path)


@pytest.mark.parametrize(
    ("app", "framework", "text", "server_header", "command"),
    [
        ("flask-gunicorn", "flask", "Hello from Flask behind gunicorn", "gunicorn", "gunicorn app:app"),
        (
            "fastapi-hypercorn",
            "fastapi",
            "Hello from FastAPI on hypercorn",
            "hypercorn",
            "hypercorn main:app",
        ),
        ("procfile", "procfile", "Hello from a Procfile app", None, "./serve.sh"),
        ("spa", "static-spa", "Hello from a single-page app", "autostack-static", "static_server dist"),
        ("rust-std", "rust", "Hello from Rust", "hello-rust", "target/release/hello"),
    ],
)
async def test_fixture_app_serves_with_a_production_server(
    deployer, sink, tmp_path, app, framework, text, server_header, command
):
    folder = tmp_path / "src" / app
    shutil.copytree(APPS / app, folder, ignore=shutil.ignore_patterns("target", "node_modules", "dist"))
    row = await deployer.deploy(folder, project=app)

    assert row.state == "ready", (row.reason, sink.log(row.id)[-2000:])
    assert row.framework == framework
    page = await deployer.get(app)
    assert page.status_code == 200 and text in page.text
    direct = await _direct(deployer, app)
    if server_header:
        assert server_header in direct.headers.get("server", "")
    assert any(command in line for line in _commands(deployer, app)), _commands(deployer, app)
    started = next(line for line in sink.log(row.id).splitlines() if line.startswith("starting `"))
    assert not any(dev in started for dev in ("flask run", "runserver", "webpack serve", "http.server"))


async def test_flask_runs_on_the_python_its_python_version_file_names(deployer, sink, tmp_path):
    folder = shutil.copytree(APPS / "flask-gunicorn", tmp_path / "flask")
    row = await deployer.deploy(folder, project="pinned")

    assert row.state == "ready", row.reason
    assert "using python 3.12." in sink.log(row.id)
    words = " ".join(_commands(deployer, "pinned")).split()
    gunicorn = next(word for word in words if word.endswith("/bin/gunicorn"))
    venv = Path(gunicorn).parent.parent  # the virtualenv the server runs in
    assert "version = 3.12." in (venv / "pyvenv.cfg").read_text()


async def test_a_missing_python_fails_before_installing(deployer, sink, tmp_path):
    folder = shutil.copytree(APPS / "flask-gunicorn", tmp_path / "flask")
    (folder / ".python-version").write_text("3.99\n")
    row = await deployer.deploy(folder, project="too-new")

    assert row.state == "failed"
    assert "this app needs Python >= 3.99 (from .python-version); this machine has " in row.reason
    assert "3.11" in row.reason
    assert "$ pip install" not in sink.log(row.id)


async def test_missing_server_is_installed_and_the_log_says_so(deployer, sink, tmp_path):
    folder = shutil.copytree(APPS / "flask-gunicorn", tmp_path / "flask")
    (folder / "requirements.txt").write_text("flask==3.1.*\n")
    row = await deployer.deploy(folder, project="no-gunicorn")

    assert row.state == "ready", row.reason
    assert "gunicorn is not in requirements.txt; installing it for production" in sink.log(row.id)
    assert "gunicorn" in (await _direct(deployer, "no-gunicorn")).headers["server"]


async def test_spa_answers_client_routes_with_index_and_missing_assets_with_404(deployer, tmp_path):
    folder = shutil.copytree(APPS / "spa", tmp_path / "spa", ignore=shutil.ignore_patterns("dist"))
    row = await deployer.deploy(folder, project="spa-routes")
    assert row.state == "ready", row.reason

    route = await deployer.get("spa-routes", path="/settings/profile")
    asset = await deployer.get("spa-routes", path="/assets/app-1a2b3c.js")
    missing = await deployer.get("spa-routes", path="/assets/gone.js")
    assert route.status_code == 200 and "Hello from a single-page app" in route.text
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert missing.status_code == 404


async def test_build_start_deploys_a_tree_detection_does_not_recognise(deployer, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(APPS / "procfile", folder)
    (folder / "Procfile").unlink()
    (folder / "autostack.yml").write_text("build:\n  start: ./serve.sh\n")
    row = await deployer.deploy(folder, project="custom")

    assert row.state == "ready", row.reason
    assert row.framework == "custom"
    assert "Hello from a Procfile app" in (await deployer.get("custom")).text


async def test_rust_warm_build_reuses_target(deployer, sink, tmp_path):
    folder = tmp_path / "rust"
    shutil.copytree(APPS / "rust-std", folder, ignore=shutil.ignore_patterns("target"))
    first = await deployer.deploy(folder, project="rust-warm")
    assert first.state == "ready", first.reason
    (folder / "src" / "main.rs").write_text(
        (folder / "src" / "main.rs").read_text().replace("Rust", "Rust, again")
    )
    second = await deployer.deploy(folder, project="rust-warm")

    assert second.state == "ready", second.reason
    assert "kept from the previous build: target" in sink.log(second.id)
    assert "Hello from Rust, again" in (await deployer.get("rust-warm")).text
