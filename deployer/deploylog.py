"""A deployment's log: each line masked, numbered, emitted at once and stored in batches."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.events import EventSink, LogLine
from deployer.masking import Masker
from store.models import DeploymentLog

log = logging.getLogger("autostack.deployer")
_MAX_LINE = 4000


class DeploymentLogWriter:
    """Collects one deployment's log lines; `flush()` writes the pending ones to the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deployment_id: int,
        sink: EventSink,
        secrets: Iterable[str] = (),
        start_seq: int = 0,
    ) -> None:
        self.sessions = sessions
        self.deployment_id = deployment_id
        self.sink = sink
        self._secrets = list(secrets)
        self.masker = Masker(self._secrets)
        self.seq = start_seq
        self.lines: list[str] = []
        self._pending: list[DeploymentLog] = []

    @classmethod
    async def resume(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        deployment_id: int,
        sink: EventSink,
        secrets: Iterable[str] = (),
    ) -> DeploymentLogWriter:
        """A writer continuing after the lines already stored for the deployment."""
        async with sessions() as session:
            last = await session.scalar(
                select(func.max(DeploymentLog.seq)).where(DeploymentLog.deployment_id == deployment_id)
            )
        return cls(sessions, deployment_id, sink, secrets, start_seq=last or 0)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Mask these values too from now on (the app's env vars, once known)."""
        self._secrets.extend(secrets)
        self.masker = Masker(self._secrets)

    async def __call__(self, text: str, stream: str = "build") -> None:
        """Record one line: mask, number, emit, queue for storage."""
        masked = self.masker.mask(text)[:_MAX_LINE]
        self.seq += 1
        now = datetime.now(UTC)
        self.lines.append(masked)
        self._pending.append(
            DeploymentLog(deployment_id=self.deployment_id, seq=self.seq, ts=now, stream=stream, line=masked)
        )
        await self.sink.emit(LogLine(self.deployment_id, self.seq, now, masked, stream))
        if len(self._pending) >= 200:
            await self.flush()

    async def flush(self) -> None:
        """Store the lines not yet written."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        async with self.sessions.begin() as session:
            session.add_all(pending)
