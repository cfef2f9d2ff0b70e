"""A delivery worker for the chaos tests: `python -m tests.chaos_worker DATABASE_URL REDIS_URL
EFFECTS`. Its push handler appends the delivery id to EFFECTS, one line per run, so a test can
count how often each delivery was handled."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.loops import supervise
from bot.services import Services
from bot.settings import Settings
from bot.worker import make_worker
from handlers.context import Context
from handlers.router import Router


async def main(database_url: str, redis_url: str, effects: Path) -> None:
    router = Router()

    @router.on("push")
    async def record(ctx: Context) -> None:
        with effects.open("a") as out:
            out.write(ctx.delivery_id + "\n")

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
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
