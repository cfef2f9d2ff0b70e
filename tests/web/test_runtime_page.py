"""The page's side of a live app in trouble: the project page and the Runtime tab show the
state, since when and its last lines; the tab's stream carries the target's lines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson

from bot.web.runtime_page import merged, state_changes
from deployer.app_state import CRASHED, LIVE
from deployer.runtime_logs import RuntimeLine
from store import app_states

SINCE = datetime(2026, 12, 2, 9, 41, 7, tzinfo=UTC)


async def _crashed(web, seeded) -> None:
    await app_states.record(
        web.sessions,
        "shop",
        "pr-1",
        seeded.preview_deployment_id,
        CRASHED,
        SINCE,
        "the app exited with code 1, 3 times since it was last healthy",
        ["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"],
    )


async def test_a_crashed_preview_shows_on_the_project_page_and_its_runtime_tab(web, seeded, as_role):
    await _crashed(web, seeded)
    viewer = as_role("viewer")
    project = (await viewer.get("/projects/shop")).text
    row = project.split("<td>pr-1")[1].split("</tr>")[0]
    assert 'class="state crashed"' in row and "since 09:41 UTC" in row
    assert 'href="/projects/shop/environments/pr-1/runtime"' in row
    production = project.split("<td>production")[1].split("</tr>")[0]
    assert 'class="state ready"' in production  # nothing known: live

    tab = await viewer.get("/projects/shop/environments/pr-1/runtime")
    assert tab.status_code == 200
    assert 'id="app-state">crashed<' in tab.text
    assert ">2026-12-02 09:41:07 UTC</time>: the app exited with code 1, 3 times" in tab.text
    assert "KeyError: &#39;DATABASE_URL&#39;" in tab.text
    assert f'href="/deployments/{seeded.preview_deployment_id}">Build log' in tab.text


async def test_a_newer_deployment_is_not_shown_as_the_old_ones_crash(web, seeded, as_role):
    await _crashed(web, seeded)
    await app_states.record(
        web.sessions, "shop", "pr-1", seeded.preview_deployment_id + 100, "live", SINCE, "", []
    )
    tab = await as_role("viewer").get("/projects/shop/environments/pr-1/runtime")
    assert 'id="app-state">live<' in tab.text and 'id="trouble"' not in tab.text


async def test_the_runtime_stream_sends_the_state_then_the_lines(web, seeded, as_role):
    await _crashed(web, seeded)
    web.deploy.target.runtime[("shop", "pr-1")] = [
        RuntimeLine(1, SINCE, "listening on 8000"),
        RuntimeLine(2, SINCE, "the app exited with code 1; restarting it in 0.5 s", "autostack"),
    ]
    events = (await as_role("viewer").get("/projects/shop/environments/pr-1/runtime/events")).text
    blocks = [block for block in events.split("\n\n") if block]
    assert [block.split("\n")[0] for block in blocks] == [
        "event: environment",
        "event: log",
        "event: log",
        "event: end",
    ]
    assert '"state":"crashed"' in blocks[0] and '"last_lines":["Traceback' in blocks[0]
    assert '"source":"autostack"' in blocks[2]


async def test_an_unknown_environment_is_a_404_naming_it(as_role):
    missing = await as_role("viewer").get("/projects/shop/environments/pr-77/runtime")
    assert (
        missing.status_code == 404
        and "project &#39;shop&#39; has no environment &#39;pr-77&#39;" in missing.text
    )


async def test_the_runtime_stream_sends_the_state_again_when_it_changes(web, seeded):
    status = await app_states.environment_status(web.sessions, seeded.project_id, "pr-1")
    assert status is not None and status.app is None  # live: nothing known

    async def following() -> AsyncIterator[bytes]:  # a live app's log: one line, then quiet
        yield b'{"type":"log","text":"listening on 8000"}\n'
        await asyncio.sleep(60)

    sent = merged(following(), state_changes(web.sessions, "shop", status, every=0.05))
    try:
        assert b"listening on 8000" in await anext(sent)
        await _crashed(web, seeded)
        changed = orjson.loads(await asyncio.wait_for(anext(sent), 5))
        assert (changed["type"], changed["state"], changed["since"]) == (
            "environment",
            CRASHED,
            SINCE.isoformat(),
        )
        assert changed["last_lines"] == ["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"]
        await app_states.record(
            web.sessions, "shop", "pr-1", seeded.preview_deployment_id, LIVE, SINCE, "", []
        )
        healthy = orjson.loads(await asyncio.wait_for(anext(sent), 5))
        assert (healthy["state"], healthy["last_lines"]) == (LIVE, [])
    finally:
        await sent.aclose()


async def test_a_secret_an_app_prints_is_masked_in_the_runtime_stream(web, seeded, as_role):
    """Pod logs are the app's raw output: the stream the page and the API share masks them."""
    from deployer.envvars import set_env_var

    secret = "sk_live_4f9b2c7d1e8a"
    await set_env_var(web.sessions, web.keyring, seeded.project_id, "STRIPE_KEY", secret, secret=True)
    web.deploy.target.runtime[("shop", "pr-1")] = [RuntimeLine(0, SINCE, f"connecting with key={secret}")]
    page = (await as_role("viewer").get("/projects/shop/environments/pr-1/runtime/events")).text
    assert secret not in page
    assert "connecting with key=•••" in page
