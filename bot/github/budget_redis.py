"""The GitHub budget in Redis, so every serve and worker process draws on the same one.

Each reservation is one Lua script (atomic): drop expired leases and old creations, refuse
while the installation is blocked, then take a concurrency lease and, for content, a place
in the minute and hour windows. Redis's clock is the only clock, so processes agree.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.github.budget import DEFAULT_LIMITS, Limits

PREFIX = "autostack:github"

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[4])
if blocked > 0 then return blocked end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 50 end
if ARGV[6] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600000)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return math.max(tonumber(oldest[2]) + 60000 - now, 1)
  end
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return math.max(tonumber(oldest[2]) + 3600000 - now, 1)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
  redis.call('PEXPIRE', KEYS[3], 3600000)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return 0
"""

# Block for at least this long; never shorten a block another process set.
_BLOCK = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisBudget:
    """`Budget` shared through Redis; connects on first use."""

    def __init__(self, redis_url: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._url = redis_url
        self._redis: Redis | None = None
        self._reserve: Any = None
        self._block: Any = None

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self._url)
            self._reserve = self._redis.register_script(_RESERVE)
            self._block = self._redis.register_script(_BLOCK)
        return self._redis

    @staticmethod
    def _keys(installation_id: int) -> list[str]:
        base = f"{PREFIX}:{installation_id}"
        return [f"{base}:inflight", f"{base}:minute", f"{base}:hour", f"{base}:blocked"]

    async def reserve(self, installation_id: int, token: str, *, content: bool) -> float:
        """0 when a slot (and content room) is taken under `token`, else seconds to wait."""
        self._client()
        limits = self.limits
        wait_ms = await self._reserve(
            keys=self._keys(installation_id),
            args=[
                token,
                limits.concurrency,
                limits.per_minute,
                limits.per_hour,
                int(limits.lease * 1000),
                "1" if content else "0",
            ],
        )
        return int(wait_ms) / 1000

    async def release(self, installation_id: int, token: str) -> None:
        """Give the concurrency slot back."""
        await self._client().zrem(self._keys(installation_id)[0], token)

    async def block(self, installation_id: int, seconds: float) -> None:
        """GitHub said wait: refuse every call of the installation for `seconds`."""
        self._client()
        await self._block(keys=[self._keys(installation_id)[3]], args=[max(int(seconds * 1000), 1)])

    async def remaining(self) -> dict[int, dict[str, float]]:
        """Per installation with recent content calls: what is left of the minute and hour
        windows, and the seconds GitHub's last limit still blocks it (for /metrics)."""
        redis = self._client()
        seconds, micros = await redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        left: dict[int, dict[str, float]] = {}
        windows = (("minute", 60_000, self.limits.per_minute), ("hour", 3_600_000, self.limits.per_hour))
        async for raw in redis.scan_iter(match=f"{PREFIX}:*:hour", count=500):
            installation = int(raw.decode().split(":")[2])
            keys = self._keys(installation)
            figures = {"blocked": max(0, int(await redis.pttl(keys[3]))) / 1000}
            for (window, span, limit), key in zip(windows, keys[1:3], strict=True):
                used = int(await redis.zcount(key, now_ms - span, "+inf"))
                figures[window] = max(0, limit - used)
            left[installation] = figures
        return left

    async def close(self) -> None:
        """Drop the connection."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
