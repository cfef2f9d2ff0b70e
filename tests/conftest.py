"""Shared fixtures: settings, the two backends (embedded and PostgreSQL + Redis), payloads."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.worker.queue import EmbeddedRedis
from store.db import create_engine, sessionmaker
from store.migrate import upgrade
from tests.servers import RedisServer, postgres, postgres_bin

pytest_plugins = ["tests.github_standin.fixtures", "tests.served", "tests.wired"]

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOKS = FIXTURES / "github-webhooks"
SECRET = "test-webhook-secret"


def payload_bytes(name: str) -> bytes:
    """A real GitHub payload from tests/fixtures/github-webhooks, e.g. `push/with-new-branch`."""
    return (WEBHOOKS / f"{name}.payload.json").read_bytes()


def payload(name: str) -> dict[str, Any]:
    """The parsed payload (see payload_bytes)."""
    return json.loads(payload_bytes(name))


def signed_headers(
    body: bytes, event: str, delivery_id: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    """The headers GitHub sends with a delivery of `body`."""
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery_id or str(uuid.uuid4()),
        "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


@dataclass
class Backend:
    """Where a test's data lives: a database URL and a Redis URL."""

    name: str
    database_url: str
    redis_url: str

    def settings(self, data_dir: Path, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "webhook_secrets": (SECRET,),
            "secret_keys": ("test-secret-key",),
        }
        values.update(overrides)
        return Settings(**values)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI always runs this mode")
    # not under pytest's tmp folder: that one is private to root, and postgres runs as postgres
    base = Path(tempfile.mkdtemp(prefix="autostack-pg-"))
    try:
        with postgres(base) as started:
            yield started
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url_real() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def _fresh_postgres_database(admin_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def fresh_postgres_url(pg_admin_url: str) -> str:
    """A new, empty PostgreSQL database (no migrations run), for tests of several processes."""
    return _fresh_postgres_database(pg_admin_url)


@pytest.fixture(params=["embedded", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test runs on the embedded defaults (SQLite + private Redis) and on PostgreSQL + Redis."""
    if request.param == "embedded":
        yield from _embedded_backend(tmp_path)
        return
    admin = request.getfixturevalue("pg_admin_url")
    redis_url = request.getfixturevalue("redis_url_real")
    redis.Redis.from_url(redis_url).flushdb()
    database_url = _fresh_postgres_database(admin)
    upgrade(database_url)
    yield Backend("postgres", database_url, redis_url)


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    """Embedded defaults only, for tests where the backend makes no difference."""
    yield from _embedded_backend(tmp_path)


def _embedded_backend(tmp_path: Path) -> Iterator[Backend]:
    embedded = EmbeddedRedis(tmp_path)
    redis_url = asyncio.run(embedded.start())
    database_url = f"sqlite:///{tmp_path / 'autostack.db'}"
    upgrade(database_url)
    try:
        yield Backend("embedded", database_url, redis_url)
    finally:
        embedded.stop()


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A SQLite store migrated to the newest schema, as `serve` makes it."""
    url = f"sqlite:///{tmp_path / 'autostack.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()
