"""p95 latency of the project page and the analytics page with 500 projects and 50,000
deployments in a throwaway PostgreSQL. Requests go through the whole web app in-process
(middleware, session, role check, queries, templates). Run: .venv/bin/python bench/web/run.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from store.db import create_engine, sessionmaker  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from tests.servers import postgres  # noqa: E402
from tests.web import harness  # noqa: E402

PROJECTS, DEPLOYMENTS, REQUESTS, WARMUP = 500, 50_000, 300, 30
STATES = ["ready"] * 8 + ["failed", "cancelled"]


def fill(url: str) -> None:
    """Bulk-load the rows with COPY (the ORM would take minutes for 50,000 deployments)."""
    now = datetime.now(UTC)
    rng = random.Random(7)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO teams (name, created_at) VALUES ('local', now()) RETURNING id")
        team_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO members (team_id, github_user_id, github_login, role, created_at) VALUES (%s, 1, 'owner', 'owner', now())",
            (team_id,),
        )
        with cur.copy(
            "COPY projects (name, full_name, default_branch, private, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(PROJECTS):
                copy.write_row((f"project-{n:03d}", f"org/project-{n:03d}", "main", True, now, now))
        with cur.copy(
            "COPY environments (project_id, name, kind, url, state, redeploy_needed, untrusted, last_activity_at, created_at) FROM STDIN"
        ) as copy:
            for p in range(1, PROJECTS + 1):
                copy.write_row(
                    (
                        p,
                        "production",
                        "production",
                        f"http://project-{p}.localhost",
                        "active",
                        False,
                        False,
                        now,
                        now,
                    )
                )
                copy.write_row((p, "pr-1", "preview", None, "active", False, False, now, now))
        with cur.copy(
            "COPY deployments (project_id, environment_id, environment, state, trigger, commit_sha, commit_time, config, phases, "
            "build_seconds, created_at, started_at, ready_at, finished_at) FROM STDIN"
        ) as copy:
            for i in range(DEPLOYMENTS):
                p = i % PROJECTS + 1
                production = rng.random() < 0.6
                created = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
                state = rng.choice(STATES)
                build = rng.uniform(5, 120)
                ready = created + timedelta(seconds=build + rng.uniform(2, 20)) if state == "ready" else None
                copy.write_row(
                    (
                        p,
                        2 * p - 1 if production else 2 * p,
                        "production" if production else "pr-1",
                        state,
                        "push",
                        f"{i:040x}",
                        created - timedelta(hours=rng.uniform(0.1, 48)),
                        json.dumps({}),
                        json.dumps({}),
                        build,
                        created,
                        created,
                        ready,
                        ready or created + timedelta(seconds=build),
                    )
                )
        cur.execute("ANALYZE")
    return team_id


async def measure(state, team_id: int, path_for) -> list[float]:
    cookie = harness.cookie_for(state.settings, 1, team_id)
    timings = []
    async with harness.client(state, cookie) as client:
        for n in range(WARMUP + REQUESTS):
            path = path_for(n)
            started = time.perf_counter()
            response = await client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code, response.text[:200])
            if n >= WARMUP:
                timings.append(elapsed)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def bench(url: str, team_id: int, data_dir: Path) -> None:
    engine = create_engine(url)
    try:
        state = harness.web_state(sessionmaker(engine), data_dir, database_url=url)
        rng = random.Random(11)
        for name, path_for in (
            ("project page", lambda n: f"/projects/project-{rng.randrange(PROJECTS):03d}"),
            (
                "analytics page",
                lambda n: f"/projects/project-{rng.randrange(PROJECTS):03d}/analytics?days=90",
            ),
            ("projects list", lambda n: "/"),
        ):
            timings = await measure(state, team_id, path_for)
            print(
                f"{name:15s} p50 {statistics.median(timings):6.1f} ms   p95 {p95(timings):6.1f} ms   ({REQUESTS} requests)"
            )
    finally:
        await engine.dispose()


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="autostack-bench-web-"))
    try:
        admin = os.environ.get("TEST_DATABASE_URL")
        with postgres(base) if admin is None else _given(admin) as admin_url:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_web")
                conn.execute("CREATE DATABASE bench_web")
            url = admin_url.rsplit("/", 1)[0] + "/bench_web"
            upgrade(url)
            started = time.perf_counter()
            team_id = fill(url)
            print(
                f"loaded {PROJECTS} projects and {DEPLOYMENTS} deployments in {time.perf_counter() - started:.1f}s"
            )
            asyncio.run(bench(url, team_id, base))
    finally:
        shutil.rmtree(base, ignore_errors=True)


class _given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    main()
