"""`autostack serve` as a user runs it: a signed real delivery in, the handler's rows out."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from store.db import sync_url
from store.models import Delivery, Project
from tests.conftest import SECRET, WEBHOOKS
from tests.processes import autostack_env, run_cli, running
from tests.servers import free_ports

INSTALLATION = WEBHOOKS / "installation" / "created.payload.json"


def wait_for_project(database_url: str, full_name: str, timeout: float = 30) -> Project:
    engine = create_engine(sync_url(database_url))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(select(Project).where(Project.full_name == full_name)).first()
            if row is not None:
                return row
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise AssertionError(f"no project for {full_name} after {timeout}s")


def delivery_states(database_url: str) -> list[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return [row.state for row in conn.execute(select(Delivery.state))]
    finally:
        engine.dispose()


def _send_and_check(base: str, env: dict[str, str], database_url: str) -> None:
    def receive() -> str:
        sent = run_cli(
            "receive",
            "-e",
            "installation",
            "-p",
            str(INSTALLATION),
            "--url",
            f"{base}/api/github/webhooks",
            "--delivery-id",
            "e2e-1",
            env=env,
        )
        assert sent.returncode == 0, sent.stderr
        return sent.stdout

    assert receive().startswith("202 ")
    again = receive()
    assert again.startswith("200 ") and "duplicate" in again
    project = wait_for_project(database_url, "Codertocat/Hello-World")
    assert project.name == "hello-world" and project.installation_id == 957387
    assert delivery_states(database_url) in (["done"], ["processing"], ["received"])
    metrics = httpx.get(f"{base}/metrics").text
    assert 'autostack_webhook_deliveries_total{event="installation",outcome="accepted"} 1.0' in metrics
    assert 'autostack_webhook_deliveries_total{event="installation",outcome="duplicate"} 1.0' in metrics
    unsigned = httpx.post(
        f"{base}/api/github/webhooks",
        content=INSTALLATION.read_bytes(),
        headers={"x-github-event": "installation", "x-github-delivery": "e2e-2"},
    )
    assert unsigned.status_code == 401


def test_serve_on_embedded_defaults(tmp_path: Path):
    port, router = free_ports(2)
    data = tmp_path / "data"
    env = autostack_env(
        PORT=str(port), ROUTER_PORT=str(router), AUTOSTACK_DATA_DIR=str(data), WEBHOOK_SECRET=SECRET
    )
    base = f"http://127.0.0.1:{port}"
    with running("serve", env=env, log=tmp_path / "serve.log", ready_url=f"{base}/readyz"):
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        _send_and_check(base, env, f"sqlite:///{data / 'autostack.db'}")
    assert ((data / "autostack.db").exists() and (data / "redis" / "appendonly.aof").exists()) or (
        data / "redis"
    ).is_dir()


def test_serve_and_worker_on_postgres_and_redis(tmp_path: Path, pg_admin_url: str, redis_url_real: str):
    import psycopg
    import redis

    name = f"e2e_{int(time.time() * 1000)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    redis.Redis.from_url(redis_url_real).flushdb()
    port, router = free_ports(2)
    env = autostack_env(
        PORT=str(port),
        ROUTER_PORT=str(router),
        AUTOSTACK_DATA_DIR=str(tmp_path / "data"),
        WEBHOOK_SECRET=SECRET,
        SECRET_KEY="e2e-key",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url_real,
    )
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    base = f"http://127.0.0.1:{port}"
    with (
        running("serve", env=env, log=tmp_path / "serve.log", ready_url=f"{base}/readyz"),
        running("worker", env=env, log=tmp_path / "worker.log"),
    ):
        _send_and_check(base, env, database_url)
