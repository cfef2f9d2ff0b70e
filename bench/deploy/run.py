"""Push-to-ready of the static and Flask examples on the local target, broken down by phase.

Orchestration overhead = total - (install + build + start + health), i.e. what AutoStack itself
adds around the user's commands and the app's start-up. Run: .venv/bin/python bench/deploy/run.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deployer.operations import queue_deployment  # noqa: E402
from deployer.pipeline import run_deployment  # noqa: E402
from deployer.targets.local.target import LocalTarget  # noqa: E402
from store.db import create_engine, sessionmaker  # noqa: E402
from store.models import Base, Deployment  # noqa: E402

PHASES = ("source", "config", "detect", "install", "build", "start", "health", "switch")
RUNS = 7


class NullSink:
    async def emit(self, event) -> None:
        return None


async def bench(example: str, tmp: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp / example}.db")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = sessionmaker(engine)
    target = LocalTarget(tmp / f"data-{example}", cache_dir=tmp / "cache", router_port=0)
    await target.start_router()
    rows = []
    try:
        for run in range(RUNS + 1):
            started = time.perf_counter()
            deployment_id = await queue_deployment(
                sessions, example, "production", trigger="bench", source=f"dir:{ROOT / 'examples' / example}"
            )
            await run_deployment(sessions, deployment_id, NullSink(), target, work_dir=tmp / "work")
            total = time.perf_counter() - started
            async with sessions() as session:
                row = await session.get(Deployment, deployment_id)
            assert row is not None and row.state == "ready", row and row.reason
            if run == 0:
                continue  # the first run fills the dependency cache; cold builds are bench/cache
            seconds = {p: row.phases.get(p, {}).get("seconds", 0.0) for p in PHASES}
            user = sum(seconds[p] for p in ("install", "build", "start", "health"))
            rows.append({"total": total, **seconds, "overhead": total - user})
    finally:
        await target.close()
        await engine.dispose()
    print(f"\n{example}: median of {RUNS} warm deploys (seconds)")
    for key in ("total", *PHASES, "overhead"):
        values = [r[key] for r in rows]
        print(
            f"  {key:<9} median {statistics.median(values) * 1000:8.1f} ms   max {max(values) * 1000:8.1f} ms"
        )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for example in ("static", "flask"):
            await bench(example, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
