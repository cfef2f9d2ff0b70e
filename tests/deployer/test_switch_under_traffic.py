"""Redeploys under steady traffic fail no request: new process healthy first, old one drained."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from deployer.targets.local.router import hostname_for

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    import asyncio, os
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    VERSION = os.environ.get("APP_VERSION", "0")

    async def home(request):
        return PlainTextResponse(f"version {VERSION}")

    async def slow(request):
        await asyncio.sleep(1.5)
        return PlainTextResponse(f"slow version {VERSION}")

    app = Starlette(routes=[Route("/", home), Route("/slow", slow), Route("/healthz", home)])
    """
)


def _write_app(folder: Path, version: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    # detection wants a file it knows even when build.start says how to run the app
    (folder / "index.html").write_text("<h1>steady</h1>")
    start = f"exec {sys.executable} -m uvicorn app:app --host 127.0.0.1 --port $PORT --log-level warning"
    (folder / "autostack.yml").write_text(
        f"build:\n  install: 'true'\n  start: '{start}'\n"
        f"run:\n  port: 8000\n  healthcheck: {{path: /healthz, timeout: 30}}\nenv:\n  APP_VERSION: {version}\n"
    )


# Now and then a kept-alive socket to a retired app is collected before it is closed (seen
# twice in ~10 runs under load); the leak is noted for the router. This test judges requests.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_five_redeploys_under_traffic_fail_no_request(deployer, tmp_path):
    folder = tmp_path / "apps" / "steady"
    _write_app(folder, 1)
    first = await deployer.deploy(folder)
    assert first.state == "ready", first.reason
    url = f"http://127.0.0.1:{deployer.target.router_port}"
    host = {"host": hostname_for("demo", "production")}
    failures: list[str] = []
    versions: set[str] = set()
    ok = 0
    stop = asyncio.Event()

    async def hammer() -> None:
        nonlocal ok
        async with httpx.AsyncClient(base_url=url, headers=host, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = await client.get("/")
                except httpx.HTTPError as exc:
                    failures.append(f"GET / raised {exc!r}")
                    continue
                if response.status_code != 200:
                    failures.append(f"GET / answered {response.status_code}: {response.text[:80]}")
                else:
                    ok += 1
                    versions.add(response.text)

    async def slow() -> str:
        async with httpx.AsyncClient(base_url=url, headers=host, timeout=30) as client:
            try:
                response = await client.get("/slow")
            except httpx.HTTPError as exc:
                failures.append(f"GET /slow raised {exc!r}")
                return ""
            if response.status_code != 200:
                failures.append(f"GET /slow answered {response.status_code}")
            return response.text

    clients = [asyncio.create_task(hammer()) for _ in range(4)]
    slow_answers: list[str] = []
    try:
        for version in range(2, 7):
            pending = asyncio.create_task(slow())
            await asyncio.sleep(0.2)  # the slow request is in flight at the old process
            _write_app(folder, version)
            row = await deployer.deploy(folder)
            assert row.state == "ready", row.reason
            slow_answers.append(await pending)
    finally:
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*clients)

    assert failures == []
    assert ok > 100
    assert versions == {f"version {n}" for n in range(1, 7)}
    # each slow request finished on the process that accepted it, after the switch started
    assert slow_answers == [f"slow version {n}" for n in range(1, 6)]
