"""The GitHub budget shared through Redis: concurrency and content creation per installation,
and a rate limit one process met blocking the others."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest
import redis

from bot.github.budget import Limits, LocalBudget, reserved
from bot.github.budget_redis import RedisBudget
from bot.github.errors import GitHubRateLimited

SMALL = Limits(concurrency=2, per_minute=3, per_hour=5, lease=30)


@pytest.fixture
def redis_url(redis_url_real: str) -> str:
    redis.Redis.from_url(redis_url_real).flushdb()
    return redis_url_real


def reserve_in_another_process(redis_url: str, count: int) -> list[float]:
    """`count` content reservations by a separate Python process (another worker)."""
    script = textwrap.dedent(
        f"""
        import asyncio
        import json
        from bot.github.budget import Limits
        from bot.github.budget_redis import RedisBudget

        async def main():
            budget = RedisBudget({redis_url!r}, Limits(concurrency=2, per_minute=3, per_hour=5, lease=30))
            waits = []
            for n in range({count}):
                wait = await budget.reserve(7, f"other-{{n}}", content=True)
                await budget.release(7, f"other-{{n}}")
                waits.append(wait)
            await budget.close()
            print(json.dumps(waits))

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


async def test_two_processes_share_the_content_budget(redis_url: str):
    assert reserve_in_another_process(redis_url, 2) == [0.0, 0.0]
    here = RedisBudget(redis_url, SMALL)
    try:
        assert await here.reserve(7, "a", content=True) == 0.0
        await here.release(7, "a")
        # the minute's three creations are spent: the next waits for the oldest to age out
        wait = await here.reserve(7, "b", content=True)
        assert 55 <= wait <= 60
        # reading is not content creation; another installation has its own budget
        assert await here.reserve(7, "c", content=False) == 0.0
        assert await here.reserve(8, "d", content=True) == 0.0
    finally:
        await here.close()


async def test_concurrency_is_shared_and_a_slot_frees_on_release(redis_url: str):
    one, two = RedisBudget(redis_url, SMALL), RedisBudget(redis_url, SMALL)
    try:
        assert await one.reserve(7, "x", content=False) == 0.0
        assert await two.reserve(7, "y", content=False) == 0.0
        assert 0 < await two.reserve(7, "z", content=False) < 1  # both slots held: poll soon
        await one.release(7, "x")
        assert await two.reserve(7, "z", content=False) == 0.0
    finally:
        await one.close()
        await two.close()


async def test_a_limit_met_by_one_process_blocks_the_other(redis_url: str):
    one, two = RedisBudget(redis_url, SMALL), RedisBudget(redis_url, SMALL)
    try:
        await one.block(7, 1800)
        await two.block(7, 5)  # a shorter block never shortens a longer one
        wait = await two.reserve(7, "p", content=False)
        assert 1795 <= wait <= 1800
        with pytest.raises(GitHubRateLimited) as caught:
            async with reserved(two, 7, "asking a permission", content=False):
                raise AssertionError("the call must not be made")
        assert caught.value.retry_after > 1790
        assert await two.reserve(8, "q", content=False) == 0.0
    finally:
        await one.close()
        await two.close()


async def test_a_short_wait_is_slept_in_place():
    budget = LocalBudget(Limits(concurrency=1))
    held = asyncio.Event()

    async def holder() -> None:
        async with reserved(budget, 7, "first", content=False):
            held.set()
            await asyncio.sleep(0.3)

    task = asyncio.create_task(holder())
    await held.wait()
    async with reserved(budget, 7, "second", content=False):
        assert task.done()  # the second call waited for the first's slot instead of deferring
    await task
