"""`autostack worker` for the chaos tests: `python -m tests.chaos.worker DATABASE_URL REDIS_URL
EFFECTS`. The real delivery worker under its supervisor; its push handler appends
"<delivery id> <pid> <unix time>" to EFFECTS, one line per run, so a test can count how often,
by which process and when each delivery was handled."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from bot.logs import configure
from bot.services import Services
from bot.settings import Settings
from bot.worker.loops import supervise
from bot.worker.workers import make_worker
from handlers.context import Context
from handlers.router import EventRouter


async def main(database_url: str, redis_url: str, effects: Path) -> None:
    router = EventRouter()

    @router.on("push")
    async def record(ctx: Context) -> None:
        # one write per line, unbuffered: a kill -9 leaves whole lines only
        line = f"{ctx.delivery_id} {os.getpid()} {time.time():.3f}\n".encode()
        fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    settings = Settings(
        data_dir=effects.parent,
        database_url=database_url,
        redis_url=redis_url,
        webhook_secrets=("unused",),
        secret_keys=("unused",),
    )
    services = Services.build(settings, redis_url, router)
    try:
        await supervise(
            "delivery-worker",
            lambda: make_worker(services, handle_signals=False, poll_delay=0.05),
            services.health,
        )
    finally:
        await services.close()


if __name__ == "__main__":
    configure("warning")
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
