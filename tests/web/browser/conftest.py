"""What `serve` runs (tests/wired.py: the page, the queue, the deploy worker, the local target)
behind uvicorn in a thread, on SQLite, with the GitHub stand-in for sign-in; and headless Debian
Chromium driven by Playwright. Skipped, saying why, when either is missing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.settings import Settings
from bot.web.context import WebState
from bot.worker.queue import EmbeddedRedis
from store.migrate import upgrade
from store.models import Installation, Project
from tests import wired
from tests.conftest import SECRET
from tests.servers import free_port
from tests.web import harness

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "browser"
CLIENT_ID, CLIENT_SECRET = "Iv1.browser", "browser-secret"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium", allow_module_level=True)
if importlib.util.find_spec("playwright") is None:
    pytest.skip("browser tests need the playwright package: pip install playwright", allow_module_level=True)


@dataclass
class Served:
    """What `serve` runs (tests/wired.py) on its own event loop in a thread, behind uvicorn."""

    url: str
    wired: wired.Served
    loop: asyncio.AbstractEventLoop

    @property
    def state(self) -> WebState:
        return self.wired.page

    @property
    def seed(self) -> harness.Seed:
        return self.wired.seed

    def run(self, coro: Any, timeout: float = 20) -> Any:
        """Run a coroutine on the server's loop (its engine belongs there)."""
        return self.start(coro).result(timeout=timeout)

    def start(self, coro: Any) -> concurrent.futures.Future[Any]:
        """Start a coroutine on the server's loop; its result comes later."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


@pytest.fixture
def served(tmp_path: Path, github_standin, github_standin_server) -> Iterator[Served]:
    database_url = f"sqlite:///{tmp_path / 'autostack.db'}"
    upgrade(database_url)
    port = free_port()
    github_standin.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=None,
        webhook_secrets=(SECRET,),
        secret_keys=("browser-secret-key",),
        port=port,
        router_port=free_port(),
        github_api_url=github_standin_server.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[tuple[wired.Served, uvicorn.Server]] = concurrent.futures.Future()

    async def serve() -> None:
        # here, not in a fixture: Playwright holds the main thread's event loop
        embedded = EmbeddedRedis(tmp_path)
        try:
            async with wired.serving(settings, await embedded.start()) as parts:
                await _installation(parts.sessions, parts.seed.project_id)
                server = uvicorn.Server(
                    uvicorn.Config(parts.app, log_level="warning", lifespan="off", access_log=False)
                )
                started.set_result((parts, server))
                await server.serve(sockets=[sock])
        finally:
            embedded.stop()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # the test waiting on `started` says why it never came
            if not started.done():
                started.set_exception(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    parts, server = started.result(timeout=60)
    while not server.started:
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", parts, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
        sock.close()


async def _installation(sessions: Any, project_id: int) -> None:
    """The seeded project belongs to octo-org's installation, whose admins sign in as owners."""
    async with sessions.begin() as session:
        session.add(Installation(id=1, account_login="octo-org", account_type="Organization"))
        await session.flush()
        (await session.get(Project, project_id)).installation_id = 1


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API holds the thread's event loop while it
    runs, so it must be stopped before pytest-asyncio's tests run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; a screenshot is kept under test-artifacts/browser/ whatever happens."""
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
