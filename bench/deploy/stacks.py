"""Cold and warm push-to-ready per stack on the local target, from the fixture apps.

Cold: a new machine's caches (empty dependency, package and build-folder caches). Warm: the same
environment again after one source file changed. Run: .venv/bin/python bench/deploy/stacks.py
[stack ...]; the Next.js warm deploy must take at most a fifth of its cold one.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deployer.operations import queue_deployment  # noqa: E402
from deployer.pipeline import run_deployment  # noqa: E402
from deployer.targets.local.target import LocalTarget  # noqa: E402
from store.db import create_engine, sessionmaker  # noqa: E402
from store.models import Base, Deployment  # noqa: E402

APPS = ROOT / "tests" / "fixtures" / "apps"
NEXT_LIMIT = 0.2


@dataclass(frozen=True)
class Stack:
    name: str
    app: str
    edit: str  # the source file changed between the cold and the warm deploy
    old: str
    new: str


STACKS = (
    Stack("nextjs", "nextjs", "app/page.js", "Hello from Next.js", "Hello again from Next.js"),
    Stack("vite", "vite-static", "index.html", "Hello from Vite", "Hello again from Vite"),
    Stack("spa", "spa", "src/app.js", 'document.title = "spa"', 'document.title = "spa again"'),
    Stack("flask", "flask-gunicorn", "app.py", "Hello from Flask", "Hello again from Flask"),
    Stack("fastapi", "fastapi-hypercorn", "main.py", "Hello from FastAPI", "Hello again from FastAPI"),
    Stack("django", "django-site", "site_config/urls.py", "Hello from Django", "Hello again from Django"),
    Stack("go", "go-http", "main.go", "Hello from Go", "Hello again from Go"),
    Stack("rust", "rust-std", "src/main.rs", "Hello from Rust", "Hello again from Rust"),
    Stack(
        "java",
        "spring-maven",
        "src/main/java/com/example/hello/HelloApplication.java",
        "Hello from",
        "Hi from",
    ),
)
PHASES = ("install", "build", "start", "health")


class NullSink:
    async def emit(self, event) -> None:
        return None


async def _deploy(
    sessions, target: LocalTarget, stack: Stack, folder: Path, work: Path
) -> tuple[float, dict]:
    started = time.perf_counter()
    deployment_id = await queue_deployment(
        sessions, stack.name, "production", trigger="bench", source=f"dir:{folder}"
    )
    await run_deployment(sessions, deployment_id, NullSink(), target, work_dir=work)
    seconds = time.perf_counter() - started
    async with sessions() as session:
        row = await session.get(Deployment, deployment_id)
    if row is None or row.state != "ready":
        raise SystemExit(
            f"{stack.name}: deployment {deployment_id} {row and row.state}: {row and row.reason}"
        )
    return seconds, {p: row.phases.get(p, {}).get("seconds", 0.0) for p in PHASES}


async def bench(stack: Stack, tmp: Path) -> tuple[float, float, dict, dict]:
    """(cold seconds, warm seconds, cold phases, warm phases) of one stack, each on new caches."""
    engine = create_engine(f"sqlite:///{tmp / stack.name}.db")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = sessionmaker(engine)
    target = LocalTarget(tmp / f"data-{stack.name}", cache_dir=tmp / f"cache-{stack.name}", router_port=0)
    await target.start_router()
    folder = tmp / "src" / stack.name
    shutil.copytree(
        APPS / stack.app, folder, ignore=shutil.ignore_patterns("node_modules", ".next", "target", "dist")
    )
    try:
        cold, cold_phases = await _deploy(sessions, target, stack, folder, tmp / "work")
        edited = folder / stack.edit
        text = edited.read_text()
        if stack.old not in text:
            raise SystemExit(f"{stack.name}: {stack.edit} no longer contains {stack.old!r}")
        edited.write_text(text.replace(stack.old, stack.new))
        warm, warm_phases = await _deploy(sessions, target, stack, folder, tmp / "work")
    finally:
        await target.close()
        await engine.dispose()
    return cold, warm, cold_phases, warm_phases


def _phases(phases: dict) -> str:
    return " ".join(f"{p[0]}{phases[p]:.1f}" for p in PHASES)


async def main(names: list[str]) -> int:
    chosen = [s for s in STACKS if not names or s.name in names]
    print(f"{'stack':<8} {'cold s':>7} {'warm s':>7} {'warm/cold':>9}   cold phases (i b s h)    warm phases")
    failed = 0
    for stack in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            cold, warm, cold_phases, warm_phases = await bench(stack, Path(tmp))
        ratio = warm / cold
        over = stack.name == "nextjs" and ratio > NEXT_LIMIT
        failed += over
        print(
            f"{stack.name:<8} {cold:7.1f} {warm:7.1f} {ratio:9.2f}   {_phases(cold_phases):<24} "
            f"{_phases(warm_phases)}{'   OVER 1/5' if over else ''}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
