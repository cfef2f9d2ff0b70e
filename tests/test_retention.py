"""Retention: old deployment logs and webhook payloads end up in S3 (moto's server on loopback)
and leave the database; newer ones and unfinished work stay; the page still shows an archived log."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from bot.archive.retention import archive_and_prune, retention_cron
from bot.archive.s3 import S3Archive
from bot.archive.settings import RetentionSettings, retention_settings
from bot.deploy_service import follow
from bot.env_values import SettingsError
from store.db import create_engine, sessionmaker
from store.models import Delivery, Deployment, DeploymentLog, Environment, LogArchive, Project, utcnow
from tests.web import harness

REGION = "eu-west-1"
NOW = utcnow()


def _port_in_our_range() -> int:
    for port in range(53400, 53500):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port in 53400-53499 for moto")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = _port_in_our_range()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def retention(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> RetentionSettings:
    """Settings for a fresh bucket in moto, with the ages the defaults give."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"archive-{uuid.uuid4().hex[:12]}"
    _s3(moto_url).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return RetentionSettings(archive_bucket=bucket, region=REGION, endpoint_url=moto_url)


def _s3(url: str) -> Any:
    return boto3.client("s3", region_name=REGION, endpoint_url=url)


def _read_ndjson(retention: RetentionSettings, key: str) -> list[dict[str, Any]]:
    body = _s3(retention.endpoint_url).get_object(Bucket=retention.archive_bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]


def _keys(retention: RetentionSettings) -> list[str]:
    listed = _s3(retention.endpoint_url).list_objects_v2(Bucket=retention.archive_bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _archive(retention: RetentionSettings) -> S3Archive:
    assert retention.archive_bucket is not None
    return S3Archive(retention.archive_bucket, region=retention.region, endpoint_url=retention.endpoint_url)


async def _seed(sessions) -> dict[str, int]:
    """Deployments finished 40 days ago, 1 day ago and never, and deliveries of several ages."""
    async with sessions.begin() as session:
        project = Project(name="shop", full_name="octo-org/shop")
        session.add(project)
        await session.flush()
        env = Environment(project_id=project.id, name="production", kind="production")
        session.add(env)
        await session.flush()
        ids = {}
        for name, finished in (
            ("old", NOW - timedelta(days=40)),
            ("new", NOW - timedelta(days=1)),
            ("stuck", None),
        ):
            dep = Deployment(
                project_id=project.id,
                environment_id=env.id,
                environment="production",
                trigger="push",
                state="ready" if finished else "building",
                created_at=NOW - timedelta(days=41),
                finished_at=finished,
            )
            session.add(dep)
            await session.flush()
            session.add_all(
                DeploymentLog(
                    deployment_id=dep.id, seq=seq, ts=NOW - timedelta(days=41), line=f"{name} line {seq}"
                )
                for seq in (1, 2, 3)
            )
            ids[name] = dep.id
        deliveries = [
            ("d-old-1", NOW - timedelta(days=10), "done"),
            ("d-old-2", NOW - timedelta(days=10, minutes=5), "ignored"),
            ("d-older", NOW - timedelta(days=12), "failed"),
            ("d-waiting", NOW - timedelta(days=12), "queued"),
            ("d-new", NOW - timedelta(days=2), "done"),
        ]
        for delivery_id, received, state in deliveries:
            body = json.dumps({"action": "opened", "id": delivery_id}).encode()
            session.add(
                Delivery(
                    delivery_id=delivery_id, event="push", payload=body, received_at=received, state=state
                )
            )
    return ids


async def _lines(sessions, deployment_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DeploymentLog.line)
            .where(DeploymentLog.deployment_id == deployment_id)
            .order_by(DeploymentLog.seq)
        )
        return list(rows)


async def _delivery_ids(sessions) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Delivery.delivery_id)))


@pytest.fixture
async def backend_sessions(backend):
    engine = create_engine(backend.database_url)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_old_logs_and_payloads_move_to_s3(backend_sessions, retention):
    sessions = backend_sessions
    ids = await _seed(sessions)
    pruned = await archive_and_prune(sessions, retention, _archive(retention), now=lambda: NOW)

    old_key = f"logs/shop/{ids['old']}.ndjson.gz"
    older_day = (NOW - timedelta(days=12)).date().isoformat()
    old_day = (NOW - timedelta(days=10, minutes=5)).date().isoformat()
    assert [r["line"] for r in _read_ndjson(retention, old_key)] == ["old line 1", "old line 2", "old line 3"]
    assert await _lines(sessions, ids["old"]) == []
    assert await _lines(sessions, ids["new"]) == ["new line 1", "new line 2", "new line 3"]
    assert await _lines(sessions, ids["stuck"]) == ["stuck line 1", "stuck line 2", "stuck line 3"]
    async with sessions() as session:
        archived = await session.get(LogArchive, ids["old"])
        assert (archived.bucket, archived.key, archived.lines) == (retention.archive_bucket, old_key, 3)
        assert await session.scalar(select(func.count()).select_from(LogArchive)) == 1

    payload_keys = [k for k in _keys(retention) if k.startswith("payloads/")]
    assert all(key.startswith((f"payloads/{older_day}/", f"payloads/{old_day}/")) for key in payload_keys)
    archived_payloads = [record for key in payload_keys for record in _read_ndjson(retention, key)]
    assert sorted(r["delivery_id"] for r in archived_payloads) == ["d-old-1", "d-old-2", "d-older"]
    assert {r["payload"]["id"] for r in archived_payloads} == {"d-old-1", "d-old-2", "d-older"}
    assert await _delivery_ids(sessions) == {"d-waiting", "d-new"}
    assert (pruned.logs, pruned.log_lines, pruned.payloads) == (1, 3, 3)


class CrashAfterUpload:
    """The archive of a worker that dies right after its upload, before the rows are deleted."""

    def __init__(self, real: S3Archive) -> None:
        self.bucket = real.bucket
        self._real = real

    async def put(self, key: str, body: bytes) -> None:
        await self._real.put(key, body)
        raise ConnectionResetError("worker killed after the upload")


async def test_a_crash_between_upload_and_delete_loses_nothing(backend_sessions, retention):
    sessions = backend_sessions
    ids = await _seed(sessions)
    with pytest.raises(ConnectionResetError):
        await archive_and_prune(sessions, retention, CrashAfterUpload(_archive(retention)), now=lambda: NOW)
    assert await _lines(sessions, ids["old"]) == ["old line 1", "old line 2", "old line 3"]

    await archive_and_prune(sessions, retention, _archive(retention), now=lambda: NOW)
    again = await archive_and_prune(sessions, retention, _archive(retention), now=lambda: NOW)
    assert (again.logs, again.payloads) == (0, 0)
    assert [r["seq"] for r in _read_ndjson(retention, f"logs/shop/{ids['old']}.ndjson.gz")] == [1, 2, 3]
    assert len([k for k in _keys(retention) if k.startswith("logs/")]) == 1
    assert await _lines(sessions, ids["old"]) == []
    assert await _delivery_ids(sessions) == {"d-waiting", "d-new"}


async def test_without_a_bucket_nothing_is_pruned(sessions, tmp_path: Path):
    ids = await _seed(sessions)
    settings = harness.settings_for(tmp_path, retention=RetentionSettings(logs_days=1, payloads_days=1))
    answer = await retention_cron({"services": SimpleNamespace(settings=settings, sessions=sessions)})
    assert answer == "ARCHIVE_BUCKET is not set: nothing archived, nothing pruned"
    assert await _lines(sessions, ids["old"]) == ["old line 1", "old line 2", "old line 3"]
    assert len(await _delivery_ids(sessions)) == 5


async def test_an_s3_refusal_stops_the_run_and_keeps_every_row(sessions, retention, tmp_path: Path):
    ids = await _seed(sessions)
    gone = dataclasses.replace(
        retention, archive_bucket="archive-never-created", logs_days=1, payloads_days=1
    )
    settings = harness.settings_for(tmp_path, retention=gone)

    answer = await retention_cron({"services": SimpleNamespace(settings=settings, sessions=sessions)})

    assert answer.startswith("stopped: archiving to s3://archive-never-created/logs/shop/")
    assert "NoSuchBucket" in answer
    assert await _lines(sessions, ids["old"]) == ["old line 1", "old line 2", "old line 3"]
    assert len(await _delivery_ids(sessions)) == 5


async def test_the_page_shows_an_archived_log(sessions, retention, tmp_path: Path):
    state = harness.web_state(sessions, tmp_path, retention=retention)
    state.deploy = dataclasses.replace(state.deploy, retention=retention)
    seeded = await harness.seed(sessions)
    cookie = harness.cookie_for(state.settings, seeded.users["viewer"], seeded.team_id)
    deployment_id = seeded.deployment_id
    later = NOW + timedelta(days=31)
    await archive_and_prune(sessions, retention, _archive(retention), now=lambda: later)
    assert await _lines(sessions, deployment_id) == []

    async with harness.client(state, cookie) as client:
        page = await client.get(f"/deployments/{deployment_id}")
        events = await client.get(f"/deployments/{deployment_id}/events")
    assert page.status_code == 200
    assert "built production" in page.text
    # the live log's stream, the same NDJSON the deploy API's /api/deployments/{id}/logs sends
    assert "event: log" in events.text and "built production" in events.text
    streamed = [json.loads(line) async for line in follow(state.deploy, deployment_id, wait=False)]
    assert [(e["seq"], e["text"]) for e in streamed if e["type"] == "log"] == [(1, "built production")]


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"RETAIN_LOGS_DAYS": "a month"}, "RETAIN_LOGS_DAYS='a month' is not a whole number"),
        ({"RETAIN_PAYLOADS_DAYS": "0"}, "RETAIN_PAYLOADS_DAYS=0 is out of range"),
        ({"ARCHIVE_BUCKET": "logs"}, "ARCHIVE_BUCKET='logs' needs AWS_REGION"),
        (
            {"ARCHIVE_BUCKET": "logs", "AWS_REGION": REGION, "ARCHIVE_ENDPOINT_URL": "minio:9000"},
            "ARCHIVE_ENDPOINT_URL='minio:9000' must be an http(s) URL",
        ),
    ],
)
def test_bad_retention_settings_name_the_setting(env, error):
    with pytest.raises(SettingsError, match=error.replace("(", r"\(").replace(")", r"\)")):
        retention_settings(env)


def test_retention_defaults():
    assert retention_settings({}) == RetentionSettings(logs_days=30, payloads_days=7, archive_bucket=None)
    assert retention_settings({"RETAIN_LOGS_DAYS": "90", "ARCHIVE_BUCKET": "b", "AWS_REGION": REGION}) == (
        RetentionSettings(logs_days=90, payloads_days=7, archive_bucket="b", region=REGION)
    )
