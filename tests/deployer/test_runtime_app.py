"""A real app on the local target after go-live: what it prints reaches the API and
`autostack logs --runtime --follow` within a second, masked; a crash, a restart loop and a
failing health check become the environment's state (stored, in the API and `autostack ls`),
and it is live again once healthy."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from deployer.app_state import CRASHED, LIVE, RESTARTING, UNHEALTHY
from deployer.events import AppStateChanged
from deployer.live_state import LiveStates
from deployer.pipeline import AppEnv
from tests.deployer.conftest import API_TOKEN, Deployer
from tests.runtime_app import FILES, printed_at

pytestmark = pytest.mark.slow
SECRET = "sk_live_runtime_0123456789abcdef"
AUTH = {"authorization": f"Bearer {API_TOKEN}"}
LOGS = "/api/v1/projects/demo/environments/production/logs"


@pytest.fixture
def crash_file(tmp_path: Path) -> Path:
    return tmp_path / "crash-at-start"


@pytest.fixture
async def live_app(deployer: Deployer, tmp_path: Path, crash_file: Path) -> Deployer:
    """The runtime app deployed to demo/production with a secret, watched every 0.2 s."""
    folder = tmp_path / "runtime-app"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)

    async def env_for(_project, _environment) -> AppEnv:
        return AppEnv({"API_TOKEN": SECRET, "CRASH_FILE": str(crash_file)}, (SECRET,), ("API_TOKEN",))

    deployer.env_for = env_for
    deployer.target.on_app_state = LiveStates(deployer.sessions, deployer.sink).changed
    deployer.target.watch_interval = 0.2
    row = await deployer.deploy(folder)
    assert row.state == "ready", row.reason
    return deployer


def states(deployer: Deployer) -> list[AppStateChanged]:
    return [event for event in deployer.sink.events if isinstance(event, AppStateChanged)]


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


async def environment_event(server: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(server + LOGS, params={"tail": "50"}, headers=AUTH)
    assert response.status_code == 200, response.text
    events = [json.loads(line) for line in response.text.splitlines()]
    assert events[0]["type"] == "environment" and events[-1] == {"type": "end"}
    return {**events[0], "lines": [e["text"] for e in events if e["type"] == "log"]}


async def test_lines_reach_the_api_and_the_cli_within_a_second(live_app, target_api):
    delays: list[float] = []
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", target_api + LOGS, params={"follow": "1", "tail": "0"}, headers=AUTH) as answer,
    ):
        assert answer.status_code == 200
        async for raw in answer.aiter_lines():
            event = json.loads(raw)
            if event["type"] == "log" and (at := printed_at(event["text"])) is not None:
                delays.append(time.time() - at)
            if len(delays) >= 8:
                break
    assert max(delays) < 1.0, delays

    def follow_with_cli() -> list[float]:
        argv = ["logs", "production", "--runtime", "--follow", "--project", "demo", "--tail", "0"]
        seen: list[float] = []
        with subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *argv, "--server", target_api],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("demo/production · live"):
                    continue
                at = printed_at(line.strip().split(" ", 1)[1])
                assert at is not None, line
                seen.append(time.time() - at)
                if len(seen) >= 5:
                    break
            process.kill()
        return seen

    cli_delays = await asyncio.to_thread(follow_with_cli)
    assert len(cli_delays) == 5 and max(cli_delays) < 1.0, cli_delays


async def test_a_crash_loop_is_the_environments_state_until_it_is_healthy(live_app, target_api, crash_file):
    crash_file.write_text("fail every start")
    assert (await live_app.get(path="/crash")).status_code == 502  # it died before answering

    await until(lambda: [e.state for e in states(live_app)][-1:] == [CRASHED], 10, "crashed")
    restarting, crashed = states(live_app)
    assert restarting.state == RESTARTING and restarting.reason == "the app exited with code 3; restarting it"
    assert f"crashing on purpose with token {SECRET}" not in restarting.last_lines
    assert "crashing on purpose with token •••" in restarting.last_lines
    assert crashed.since == restarting.since  # the trouble began with the first exit
    assert crashed.last_lines[-1] == f"cannot start: {crash_file} is there"

    shown = await environment_event(target_api)
    assert (shown["state"], shown["since"]) == (CRASHED, crashed.since.isoformat())
    assert shown["reason"] == "the app exited with code 4, 2 times since it was last healthy"
    assert shown["last_lines"][-1] == f"cannot start: {crash_file} is there"
    assert "crashing on purpose with token •••" in shown["lines"]
    assert any(line.startswith("the app exited with code 4; restarting it in") for line in shown["lines"])
    assert SECRET not in json.dumps(shown)

    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "ls", "--json", "--server", target_api],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [row] = json.loads(listed.stdout)
    assert (row["shown_state"], row["app_state"]) == (CRASHED, CRASHED)

    crash_file.unlink()
    await until(lambda: states(live_app)[-1].state == LIVE, 15, "live again")
    assert (await environment_event(target_api))["state"] == LIVE
    assert (await live_app.get()).text == "hello"


async def test_a_failing_health_check_is_unhealthy_until_it_passes(live_app, target_api):
    assert (await live_app.get(path="/sick")).status_code == 500
    await until(lambda: [e.state for e in states(live_app)][-1:] == [UNHEALTHY], 5, "unhealthy")
    [unhealthy] = states(live_app)
    assert unhealthy.reason == "the health check failed 3 times in a row: GET / answered 500"
    assert (await environment_event(target_api))["state"] == UNHEALTHY
    assert (await live_app.get(path="/well")).status_code == 200
    await until(lambda: states(live_app)[-1].state == LIVE, 5, "live again")
