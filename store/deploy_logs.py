"""A deployment's stored log: lines appended in batches while it runs, numbered by `seq`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import DeploymentLog

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class NewLine:
    """One masked log line to store: its number in the deployment's log, time, stream and text."""

    seq: int
    ts: datetime
    stream: str
    line: str


async def append(sessions: Sessions, deployment_id: int, lines: Sequence[NewLine]) -> None:
    """Store a batch of the deployment's lines in one transaction (all or none)."""
    async with sessions.begin() as session:
        session.add_all(
            DeploymentLog(deployment_id=deployment_id, seq=n.seq, ts=n.ts, stream=n.stream, line=n.line)
            for n in lines
        )


async def last_seq(sessions: Sessions, deployment_id: int) -> int:
    """The number of the deployment's last stored line (0 when none is stored)."""
    async with sessions() as session:
        last = await session.scalar(
            select(func.max(DeploymentLog.seq)).where(DeploymentLog.deployment_id == deployment_id)
        )
        return last or 0
