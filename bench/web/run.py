"""p50/p95 latency of every page (projects list, project, deployment, env vars, domains, team,
activity, analytics, setup) with 500 projects and 50,000 deployments in a throwaway PostgreSQL.
Requests go through the whole web app in-process (middleware, session, role check, queries,
templates). Run: .venv/bin/python bench/web/run.py (BENCH_PG_PORT picks PostgreSQL's port).
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from store.db import create_engine, sessionmaker  # noqa: E402
from store.encryption import KeyRing, env_var_context  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from tests import servers  # noqa: E402
from tests.web import harness  # noqa: E402

PROJECTS, DEPLOYMENTS, REQUESTS, WARMUP = 500, 50_000, 300, 30
VARS, DOMAINS, MEMBERS, ACTIVITY, LOG_LINES = 20, 3, 40, 20_000, 400
STATES = ["ready"] * 8 + ["failed", "cancelled"]
FRAMEWORKS = ["nextjs", "vite", "fastapi", "django", "static", "express"]
TARGET_MS = 50.0


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
        _fill_extras(cur, team_id, now, rng)
        cur.execute("ANALYZE")
    return team_id


def _fill_extras(cur: psycopg.Cursor, team_id: int, now: datetime, rng: random.Random) -> None:
    """What the other pages read: each environment's live build, variables, domains, members,
    the activity log and a long build log for the deployments the deployment page shows."""
    cur.execute(
        "UPDATE environments e SET current_deployment_id = d.last FROM (SELECT environment_id, "
        "max(id) AS last FROM deployments WHERE state = 'ready' GROUP BY environment_id) d "
        "WHERE d.environment_id = e.id"
    )
    keyring = KeyRing(harness.settings_for(Path("/nonexistent")).secret_keys)
    with cur.copy(
        "COPY env_vars (project_id, key, scope, secret, ciphertext, key_id, updated_at) FROM STDIN"
    ) as copy:
        for p in range(1, PROJECTS + 1):
            for v in range(VARS):
                key = f"VAR_{v:02d}"
                key_id, blob = keyring.encrypt(f"value-{p}-{v}", env_var_context(p, key, "all"))
                copy.write_row((p, key, "all", v % 4 == 0, blob, key_id, now))
    with cur.copy(
        "COPY domains (project_id, environment, hostname, verification, token, state, created_at) FROM STDIN"
    ) as copy:
        for p in range(1, PROJECTS + 1):
            for d in range(DOMAINS):
                copy.write_row(
                    (p, "production", f"www{d}.project-{p}.example.com", "txt", "t" * 32, "pending", now)
                )
    with cur.copy(
        "COPY members (team_id, github_user_id, github_login, role, created_at) FROM STDIN"
    ) as copy:
        for m in range(MEMBERS):
            copy.write_row(
                (team_id, 1000 + m, f"member-{m}", rng.choice(["viewer", "developer", "admin"]), now)
            )
    with cur.copy(
        "COPY audit_events (team_id, project_id, actor, action, target, details, created_at) FROM STDIN"
    ) as copy:
        for a in range(ACTIVITY):
            p = a % PROJECTS + 1
            when = now - timedelta(minutes=a)
            copy.write_row(
                (team_id, p, "member-1", "deploy", f"project-{p:03d}/production", json.dumps({}), when)
            )
    with cur.copy("COPY deployment_logs (deployment_id, seq, ts, stream, line) FROM STDIN") as copy:
        for deployment_id in range(1, 201):
            for seq in range(1, LOG_LINES + 1):
                copy.write_row((deployment_id, seq, now, "build", f"step {seq}: compiling module {seq}"))
    cur.execute(
        "UPDATE deployments SET framework = (%s::text[])[1 + id %% %s], ref = 'main', "
        "commit_message = 'change ' || id",
        (FRAMEWORKS, len(FRAMEWORKS)),
    )


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


def _project(rng: random.Random) -> str:
    return f"/projects/project-{rng.randrange(PROJECTS):03d}"


def pages(rng: random.Random) -> dict[str, Callable[[int], str]]:
    """Every page, each with how to pick the n-th request's path."""
    return {
        "projects": lambda n: "/",
        "projects ?q=&sort=": lambda n: f"/?q=project-{rng.randrange(50):02d}&sort=state",
        "project": lambda n: _project(rng),
        "deployment": lambda n: f"/deployments/{rng.randrange(1, 201)}",
        "env vars": lambda n: _project(rng) + "/env",
        "domains": lambda n: _project(rng) + "/domains",
        "team": lambda n: "/team",
        "activity": lambda n: "/team/activity",
        "analytics": lambda n: _project(rng) + "/analytics?days=90",
        "setup": lambda n: "/setup",
    }


async def bench(url: str, team_id: int, data_dir: Path) -> bool:
    """Measure every page and print the table; True when every p95 is under the target."""
    engine = create_engine(url)
    ok = True
    try:
        state = harness.web_state(sessionmaker(engine), data_dir, database_url=url)
        print(
            f"{'page':20s} {'p50 ms':>8s} {'p95 ms':>8s}   ({REQUESTS} requests each, target p95 < {TARGET_MS:.0f} ms)"
        )
        for name, path_for in pages(random.Random(11)).items():
            timings = await measure(state, team_id, path_for)
            slow = p95(timings) >= TARGET_MS
            ok = ok and not slow
            print(
                f"{name:20s} {statistics.median(timings):8.1f} {p95(timings):8.1f}{'   SLOW' if slow else ''}"
            )
    finally:
        await engine.dispose()
    return ok


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="autostack-bench-web-"))
    try:
        admin = os.environ.get("TEST_DATABASE_URL")
        if os.environ.get("BENCH_PG_PORT"):
            port = int(os.environ["BENCH_PG_PORT"])
            servers.free_port = lambda: port
        with servers.postgres(base) if admin is None else _given(admin) as admin_url:
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
            ok = asyncio.run(bench(url, team_id, base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(0 if ok else 1)


class _given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    main()
