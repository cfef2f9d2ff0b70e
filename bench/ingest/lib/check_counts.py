"""After the load: every delivery AutoStack acknowledged is stored once and queued once.

Usage: check_counts.py DATABASE_URL REDIS_URL RUNS_FILE
Deliveries the relay had not yet queued when the server was stopped are relayed first (as
the sweeper would), then rows, queue entries and job keys are counted and compared: with no
worker running, every row is still `received` and has exactly one job.
"""

import asyncio
import sys
from datetime import timedelta

import redis
from sqlalchemy import func, select

from bot.worker.queue import ArqQueue
from store.db import create_engine, sessionmaker
from store.models import Delivery
from store.outbox import OutboxSweep


async def drain(database_url: str, redis_url: str) -> int:
    engine = create_engine(database_url)
    queue = await ArqQueue.connect(redis_url)
    sweep = OutboxSweep(sessionmaker(engine), received_for=timedelta(0))
    relayed = 0
    try:
        while True:
            relayed += await queue.enqueue_missing(await sweep.next_page())
            if sweep.done:
                break
        async with engine.connect() as conn:
            states = dict(
                (await conn.execute(select(Delivery.state, func.count()).group_by(Delivery.state))).all()
            )
    finally:
        await queue.close()
        await engine.dispose()
    print(f"relayed after stop: {relayed}")
    return states


def measured_requests(runs_file: str) -> int:
    total = 0
    for line in open(runs_file):
        if line.startswith("target=autostack "):
            fields = dict(item.split("=", 1) for item in line.split())
            total += int(fields["requests"]) - int(fields.get("non2xx", 0))
    return total


def main() -> int:
    database_url, redis_url, runs_file = sys.argv[1:4]
    states = asyncio.run(drain(database_url, redis_url))
    rows = sum(states.values())
    client = redis.Redis.from_url(redis_url)
    queued = client.zcard("arq:queue")
    # a cron job the server held when it was stopped keeps its key (`arq:job:cron:…`) but is no
    # delivery's job
    job_keys = sum(
        1 for key in client.scan_iter("arq:job:*", count=10_000) if not key.startswith(b"arq:job:cron:")
    )
    measured = measured_requests(runs_file)
    ok = rows == queued == job_keys == states.get("received", 0) and rows >= measured
    print(
        f"deliveries stored={rows} states={states} queue entries={queued} job keys={job_keys} "
        f"acknowledged in measured windows={measured} (plus warm-ups) -> {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
