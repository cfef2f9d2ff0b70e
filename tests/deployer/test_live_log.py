"""A build that prints over time streams to `autostack deploy` and the API line by line, each
phase header ahead of its lines, and the summary names the phases' durations."""

from __future__ import annotations

import asyncio
import io
import json
import time

import httpx
import pytest

from bot import cli
from bot.cli.stream import pack
from store.models import Deployment

pytestmark = pytest.mark.slow
SLACK_SECONDS = 1.5
# each line carries the time it was printed, so its delay can be measured where it arrives
SLOW_BUILD = 'for i in $(seq 1 12); do echo "line $i $(date +%s.%N)"; sleep 0.25; done'


def _slow_site(app_copy, build: str = SLOW_BUILD):
    folder = app_copy("static", "slow")
    (folder / "autostack.yml").write_text(f"build:\n  build: '{build}'\n")
    return folder


def _delays(texts: list[tuple[float, str]]) -> list[float]:
    return [arrived - float(text.split()[-1]) for arrived, text in texts if text.startswith("line ")]


class _StampedOutput(io.StringIO):
    """Stands in for stdout and notes when each printed line arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        now = time.time()
        self.lines.extend((now, line.strip()) for line in text.splitlines() if line.strip())
        return len(text)


async def test_cli_prints_each_build_line_within_a_second_and_headers_first(server, app_copy, monkeypatch):
    out = _StampedOutput()
    monkeypatch.setattr("sys.stdout", out)
    argv = ["deploy", str(_slow_site(app_copy)), "--server", server.url]

    assert await asyncio.to_thread(cli.main, argv) == 0

    printed = [text for _, text in out.lines]
    delays = _delays(out.lines)
    assert len(delays) == 12
    assert max(delays) < SLACK_SECONDS, delays
    build = printed.index("── build")
    first = next(i for i, t in enumerate(printed) if t.startswith("line 1 "))
    last = next(i for i, t in enumerate(printed) if t.startswith("line 12 "))
    assert printed.index("── install") < build < first < last < printed.index("── start")
    assert printed.index("── start") < printed.index("── health") < printed.index("── switch")
    # the summary: the URL, then every phase's duration and the build time
    assert printed[-2].startswith("ready: http://slow.localhost")
    assert "build 3." in printed[-1] and "health " in printed[-1] and "(build time 3." in printed[-1]
    async with server.served.sessions() as session:
        row = await session.get(Deployment, 1)
    assert 3.0 <= row.build_seconds < 6.0  # install + build: the 3 s build counts


async def test_api_stream_delivers_lines_while_the_build_runs(server, app_copy):
    folder = _slow_site(app_copy)
    archive = folder.parent / "slow.tar.gz"
    await asyncio.to_thread(pack, folder, archive)
    events: list[tuple[float, dict]] = []
    async with (
        httpx.AsyncClient(
            base_url=server.url, headers={"authorization": f"Bearer {server.token}"}, timeout=30
        ) as client,
        client.stream(
            "POST",
            "/api/v1/projects/slow/environments/production/deployments",
            content=archive.read_bytes(),
        ) as response,
    ):
        async for raw in response.aiter_lines():
            if raw.strip():
                events.append((time.time(), json.loads(raw)))

    lines = [(at, e["text"]) for at, e in events if e["type"] == "log"]
    delays = _delays(lines)
    assert len(delays) == 12 and max(delays) < SLACK_SECONDS, delays
    # lines arrive spread over the build, not in one batch at its end
    arrivals = [at for at, text in lines if text.startswith("line ")]
    assert arrivals[-1] - arrivals[0] > 2.0
    order = [e.get("phase") or e.get("text", "").split(" ")[0] for _, e in events]
    last_line = len(order) - 1 - order[::-1].index("line")
    assert order.index("build") < order.index("line") < last_line < order.index("start")
    finished = events[-1][1]
    assert finished["type"] == "finished" and finished["state"] == "ready"
    assert set(finished["phases"]) >= {"install", "build", "start", "health", "switch"}
    assert finished["phases"]["build"] >= 2.5
