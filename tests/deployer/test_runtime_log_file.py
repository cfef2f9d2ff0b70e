"""The local target's runtime log file: bounded, numbered across restarts, followed as it grows."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from deployer.runtime_logs import RuntimeQuery
from deployer.targets.local.runtime_log import RuntimeLog, RuntimeLogs


@pytest.fixture
def opened():
    """Makes RuntimeLogs and closes their files after the test."""
    made: list[RuntimeLogs] = []

    def make(folder, **kwargs) -> RuntimeLogs:
        made.append(RuntimeLogs(folder, **kwargs))
        return made[-1]

    yield make
    for logs in made:
        logs.close()


async def collect(logs: RuntimeLogs, query: RuntimeQuery, count: int | None = None) -> list[str]:
    found = []
    async for line in logs.read("demo", "production", query):
        found.append(line.text)
        if count is not None and len(found) == count:
            break
    return found


async def test_reads_the_last_lines_and_after_a_seq(tmp_path, opened):
    logs = opened(tmp_path)
    writer = logs.writer("demo", "production")
    for n in range(1, 11):
        writer.append(f"line {n}")
    assert await collect(logs, RuntimeQuery(tail=3)) == ["line 8", "line 9", "line 10"]
    assert await collect(logs, RuntimeQuery(after=8)) == ["line 9", "line 10"]
    assert await collect(logs, RuntimeQuery(tail=0)) == []


async def test_since_keeps_only_newer_lines(tmp_path, opened):
    logs = opened(tmp_path)
    writer = logs.writer("demo", "production")
    now = datetime.now(UTC)
    writer.append("old", at=now - timedelta(hours=2))
    writer.append("new", at=now)
    assert await collect(logs, RuntimeQuery(since=now - timedelta(minutes=10))) == ["new"]


async def test_the_file_stays_bounded_and_keeps_the_newest_lines(tmp_path, opened):
    logs = opened(tmp_path, max_bytes=10_000)
    writer = logs.writer("demo", "production")
    for n in range(1, 2001):
        writer.append(f"line {n:05d} " + "x" * 40)
    size = logs.path("demo", "production").stat().st_size
    assert size <= 10_000
    kept = await collect(logs, RuntimeQuery(tail=5000))
    assert kept[-1].startswith("line 02000") and len(kept) > 50
    numbers = [int(text.split()[1]) for text in kept]
    assert numbers == list(range(numbers[0], 2001))  # a whole, contiguous newest part


async def test_numbering_goes_on_after_a_restart_and_a_cut_last_line_is_dropped(tmp_path, opened):
    first = opened(tmp_path)
    first.writer("demo", "production").append("before the restart")
    first.close()
    path = first.path("demo", "production")
    with path.open("ab") as file:
        file.write(b'{"seq": 2, "at": "2026-')  # serve killed mid-write
    again = opened(tmp_path)
    again.writer("demo", "production").append("after the restart")
    lines = [line async for line in again.read("demo", "production", RuntimeQuery())]
    assert [(line.seq, line.text) for line in lines] == [(1, "before the restart"), (2, "after the restart")]


async def test_follow_sees_new_lines_quickly_and_through_a_compaction(tmp_path, opened):
    logs = opened(tmp_path, max_bytes=4_000)
    writer = logs.writer("demo", "production")
    writer.append("already there")
    arrivals: list[tuple[str, float]] = []

    async def follow() -> None:
        async for line in logs.read("demo", "production", RuntimeQuery(follow=True)):
            arrivals.append((line.text, time.monotonic()))
            if line.text == "last":
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.3)
    written = time.monotonic()
    writer.append("fresh")
    await asyncio.sleep(0.3)
    for n in range(200):  # several compactions
        writer.append(f"filler {n} " + "y" * 30)
    writer.append("last")
    await asyncio.wait_for(follower, 5)
    texts = [text for text, _ in arrivals]
    assert texts[:2] == ["already there", "fresh"]
    assert texts[-1] == "last"
    assert len(texts) == len(set(texts))  # nothing repeated after a rewrite
    assert arrivals[1][1] - written < 1.0


async def test_destroying_an_environment_removes_its_log(tmp_path, opened):
    logs = opened(tmp_path)
    logs.writer("demo", "pr-1").append("hello")
    logs.remove("demo", "pr-1")
    assert not logs.path("demo", "pr-1").exists()
    assert await collect(logs, RuntimeQuery()) == []


def test_a_long_line_is_cut(tmp_path):
    writer = RuntimeLog(tmp_path / "x.jsonl")
    writer.append("z" * 100_000)
    writer.close()
    assert writer.size < 9_000
