"""The archive's format (one gzipped NDJSON object per deployment log and per day of webhook
payloads, pure) and reading a deployment's log whether it is still in the database or archived."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from bot.archive.settings import RetentionSettings
from store.db import Sessions
from store.log_archive import stored_log
from store.models import Delivery, DeploymentLog


@dataclass(frozen=True)
class LogEntry:
    """One line of a deployment's log, as the page shows it."""

    seq: int
    ts: datetime
    stream: str
    line: str


def log_key(project: str, deployment_id: int) -> str:
    """Where a deployment's log is archived."""
    return f"logs/{project}/{deployment_id}.ndjson.gz"


def payloads_key(day: date, first_delivery_id: str) -> str:
    """Where a day's payloads are archived; a day with more deliveries than one batch has one
    part per batch, named by its first delivery so a re-run rewrites the same object."""
    return f"payloads/{day.isoformat()}/{first_delivery_id}.ndjson.gz"


def _ndjson_gz(records: Iterable[dict[str, Any]]) -> bytes:
    # mtime=0: the same rows give the same bytes, so a re-run after a crash rewrites an equal object
    return gzip.compress(b"".join(orjson.dumps(record) + b"\n" for record in records), mtime=0)


def encode_log(rows: Iterable[DeploymentLog | LogEntry]) -> bytes:
    """A deployment's log lines as gzipped NDJSON, in order."""
    return _ndjson_gz(
        {"seq": row.seq, "ts": row.ts.isoformat(), "stream": row.stream, "line": row.line} for row in rows
    )


def decode_log(body: bytes) -> list[LogEntry]:
    """The log lines of an archived object."""
    records = (orjson.loads(line) for line in gzip.decompress(body).splitlines() if line)
    return [LogEntry(r["seq"], datetime.fromisoformat(r["ts"]), r["stream"], r["line"]) for r in records]


def _payload(raw: bytes) -> dict[str, Any]:
    # GitHub sends JSON; anything else (an oddly encoded redelivery) is kept byte for byte
    try:
        return {"payload": orjson.loads(raw)}
    except orjson.JSONDecodeError:
        return {"payload_base64": base64.b64encode(raw).decode()}


def encode_payloads(deliveries: Iterable[Delivery]) -> bytes:
    """Webhook deliveries (headers we keep, state and the payload itself) as gzipped NDJSON."""
    return _ndjson_gz(
        {
            "delivery_id": d.delivery_id,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "received_at": d.received_at.isoformat(),
            "state": d.state,
            "attempts": d.attempts,
            "error": d.error,
            **_payload(d.payload),
        }
        for d in deliveries
    )


async def read_log(
    sessions: Sessions,
    deployment_id: int,
    retention: RetentionSettings,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[LogEntry]:
    """A deployment's log lines after seq `after`, in order: from the database, or read back from
    the archive once retention moved them there."""
    stored = await stored_log(sessions, deployment_id, after=after, limit=limit)
    if stored.archived is None:
        return [LogEntry(r.seq, r.ts, r.stream, r.line) for r in stored.lines]
    # boto3 is loaded only for a log that was archived
    from bot.archive.s3 import S3Archive

    archived = stored.archived
    archive = S3Archive(archived.bucket, region=retention.region, endpoint_url=retention.endpoint_url)
    entries = [entry for entry in decode_log(await archive.get(archived.key)) if entry.seq > after]
    return entries[:limit] if limit is not None else entries
