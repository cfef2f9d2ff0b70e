"""Cold vs warm builds of the Express and Flask examples: the lockfile-keyed dependency cache.

Cold = empty cache (npm/pip download and install); warm = same lockfile, cache reused.
Build time = install + build phases. Run: .venv/bin/python bench/cache/run.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deployer.operations import queue_deployment  # noqa: E402
from deployer.pipeline import run_deployment  # noqa: E402
from deployer.targets.local.target import LocalTarget  # noqa: E402
from store.db import create_engine, sessionmaker  # noqa: E402
from store.models import Base, Deployment  # noqa: E402

WARM_RUNS = 3


class NullSink:
    async def emit(self, event) -> None:
        return None


async def build_seconds(example: str, tmp: Path, cache: Path, runs: int) -> list[float]:
    engine = create_engine(f"sqlite:///{tmp / example}-{cache.name}.db")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = sessionmaker(engine)
    target = LocalTarget(tmp / f"data-{example}-{cache.name}", cache_dir=cache, router_port=0)
    await target.start_router()
    found = []
    try:
        for _ in range(runs):
            deployment_id = await queue_deployment(
                sessions, example, "production", trigger="bench", source=f"dir:{ROOT / 'examples' / example}"
            )
            await run_deployment(sessions, deployment_id, NullSink(), target, work_dir=tmp / "work")
            async with sessions() as session:
                row = await session.get(Deployment, deployment_id)
            assert row is not None and row.state == "ready", row and row.reason
            found.append(row.build_seconds or 0.0)
    finally:
        await target.close()
        await engine.dispose()
    return found


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for example in ("express", "flask"):
            cache = tmp / f"cache-{example}"
            cold = (await build_seconds(example, tmp, cache, 1))[0]
            warm = statistics.median(await build_seconds(example, tmp, cache, WARM_RUNS))
            print(
                f"{example:<8} cold {cold:7.2f} s   warm {warm:7.3f} s   "
                f"speed-up {cold / max(warm, 0.001):6.0f}x"
            )


if __name__ == "__main__":
    asyncio.run(main())
