"""The retention cron: deployment logs and webhook payloads past their age are written to the S3
archive, then removed from the database, in bounded batches.

Each object is uploaded before its rows are deleted, and the delete runs in its own short
transaction: a crash in between leaves the rows, and the next run uploads the same object again
under the same key. Without ARCHIVE_BUCKET nothing is deleted.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.archive.logs import encode_log, encode_payloads, log_key, payloads_key
from bot.archive.settings import RetentionSettings
from bot.aws_errors import AWSError
from store import retention as queries
from store.db import Sessions, reading, transaction
from store.models import utcnow

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("autostack.retention")

LOG_BATCH = 50  # deployments per query; each one's delete is its own transaction
PAYLOAD_BATCH = 200  # deliveries per query and at most per object (payloads are up to 25 MB)
MAX_BATCHES = 20  # per kind and run, so one run stays well inside arq's job timeout


class Archive(Protocol):
    """Where archived objects go (S3Archive in production)."""

    bucket: str

    async def put(self, key: str, body: bytes) -> None:
        """Write one object."""


@dataclass
class Pruned:
    """What one run archived and removed."""

    logs: int = 0
    log_lines: int = 0
    payloads: int = 0


async def _archive_logs(sessions: Sessions, archive: Archive, before: datetime, pruned: Pruned) -> None:
    for _ in range(MAX_BATCHES):
        async with reading(sessions) as tx:
            due = await queries.logs_due(tx, before, LOG_BATCH)
        for deployment_id, project in due:
            async with reading(sessions) as tx:
                lines = await queries.log_lines(tx, deployment_id)
            if not lines:
                continue
            key = log_key(project, deployment_id)
            await archive.put(key, encode_log(lines))
            async with transaction(sessions) as tx:
                await queries.mark_log_archived(
                    tx,
                    deployment_id,
                    bucket=archive.bucket,
                    key=key,
                    up_to_seq=lines[-1].seq,
                    lines=len(lines),
                )
            pruned.logs += 1
            pruned.log_lines += len(lines)
        if len(due) < LOG_BATCH:
            return


async def _archive_payloads(sessions: Sessions, archive: Archive, before: datetime, pruned: Pruned) -> None:
    for _ in range(MAX_BATCHES):
        async with reading(sessions) as tx:
            batch = await queries.payloads_due(tx, before, PAYLOAD_BATCH)
        for day, same_day in itertools.groupby(batch, key=lambda d: d.received_at.date()):
            deliveries = list(same_day)
            await archive.put(payloads_key(day, deliveries[0].delivery_id), encode_payloads(deliveries))
            async with transaction(sessions) as tx:
                await queries.delete_deliveries(tx, [d.delivery_id for d in deliveries])
            pruned.payloads += len(deliveries)
        if len(batch) < PAYLOAD_BATCH:
            return


async def archive_and_prune(
    sessions: Sessions,
    retention: RetentionSettings,
    archive: Archive,
    now: Callable[[], datetime] = utcnow,
) -> Pruned:
    """Archive then delete the logs of deployments finished more than RETAIN_LOGS_DAYS ago and the
    finished deliveries received more than RETAIN_PAYLOADS_DAYS ago."""
    pruned = Pruned()
    await _archive_logs(sessions, archive, now() - timedelta(days=retention.logs_days), pruned)
    await _archive_payloads(sessions, archive, now() - timedelta(days=retention.payloads_days), pruned)
    return pruned


async def retention_cron(ctx: dict[str, Any]) -> str:
    """arq cron (unique across workers): one retention run against the configured bucket."""
    services: Services = ctx["services"]
    retention = services.settings.retention
    if retention.archive_bucket is None:
        return "ARCHIVE_BUCKET is not set: nothing archived, nothing pruned"
    # boto3 is loaded only by a worker that archives
    from bot.archive.s3 import S3Archive

    archive = S3Archive(
        retention.archive_bucket, region=retention.region, endpoint_url=retention.endpoint_url
    )
    try:
        pruned = await archive_and_prune(services.sessions, retention, archive)
    except AWSError as exc:
        # what was not archived keeps its rows: the next hourly run starts where this one stopped
        log.warning("archiving stopped, the rest waits for the next run: %s", exc)
        return f"stopped: {exc}"
    log.info(
        "archived %d deployment logs (%d lines) and %d webhook payloads to s3://%s",
        pruned.logs,
        pruned.log_lines,
        pruned.payloads,
        archive.bucket,
    )
    return f"archived {pruned.logs} logs, {pruned.payloads} payloads"
