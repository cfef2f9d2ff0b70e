"""A served web page (uvicorn in a thread, SQLite, the GitHub stand-in for sign-in) and headless
Debian Chromium driven by Playwright. Skipped, saying why, when either is missing."""

from __future__ import annotations

import asyncio
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

from bot.security_headers import SecurityHeaders
from bot.site import site_app
from bot.web.context import OAuthClient, WebState
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from store.models import Installation, Project
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
    url: str
    state: WebState
    database_url: str
    seed: harness.Seed
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (its engine belongs there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=20)


@pytest.fixture
def served(tmp_path: Path, github_standin, github_standin_server) -> Iterator[Served]:
    database_url = f"sqlite:///{tmp_path / 'autostack.db'}"
    upgrade(database_url)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    github_standin.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)
    sessions = sessionmaker(engine)
    state = harness.web_state(sessions, tmp_path, port=port, github_api_url=github_standin_server.url)
    state.oauth = OAuthClient(CLIENT_ID, CLIENT_SECRET)
    server = uvicorn.Server(
        uvicorn.Config(
            # with the headers serve adds, so a page the CSP would break fails here
            SecurityHeaders(site_app(state), form_action=github_standin_server.url, always_https=False),
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    served = Served(f"http://127.0.0.1:{port}", state, database_url, None, loop)  # type: ignore[arg-type]
    served.seed = served.run(harness.seed(sessions))
    served.run(_installation(sessions, served.seed.project_id))
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(timeout=10)
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
