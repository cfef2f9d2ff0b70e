"""Optional TTL for idle previews (`previews.ttl` in autostack.yml): which previews expired, and their end."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from deployer.events import EventSink
from deployer.operations import OperationError, destroy_environment
from deployer.plan import Plan
from deployer.stops import IN_PROCESS, StopSignals
from deployer.targets.base import Target
from store import environment_expiry
from store.db import Sessions
from store.models import utcnow

log = logging.getLogger("autostack.expiry")


@dataclass(frozen=True, slots=True)
class Preview:
    """An active preview, when it last saw activity, and its project's TTL."""

    project: str
    environment: str
    last_activity_at: datetime
    ttl: int | None  # seconds; None: the project's previews never expire
    busy: bool = False  # a deployment holds the environment's lock


def expired(previews: Iterable[Preview], now: datetime) -> list[Preview]:
    """The previews idle for longer than their project's TTL (pure).

    A preview with a deployment under way is not idle, however old its last activity.
    """
    return [
        p
        for p in previews
        if p.ttl is not None and not p.busy and now - p.last_activity_at > timedelta(seconds=p.ttl)
    ]


async def active_previews(sessions: Sessions) -> list[Preview]:
    """Every active preview, with the TTL of its project.

    The TTL is production's: the plan of the deployment production currently runs, i.e. the
    default branch's autostack.yml, so a pull request cannot lengthen (or shorten) its own life.
    """
    return [
        Preview(
            row.project,
            row.environment,
            row.last_activity_at,
            Plan.from_snapshot(row.production_config).preview_ttl if row.production_config else None,
            row.locked,
        )
        for row in await environment_expiry.active_previews(sessions)
    ]


async def expire_idle_previews(
    sessions: Sessions,
    target: Target,
    sink: EventSink,
    now: datetime | None = None,
    *,
    stops: StopSignals = IN_PROCESS,
) -> list[Preview]:
    """Destroy every preview idle past its TTL, as a closed pull request does; return them."""
    gone = []
    for preview in expired(await active_previews(sessions), now or utcnow()):
        try:
            await destroy_environment(
                sessions, target, sink, preview.project, preview.environment, stops=stops
            )
        except OperationError as exc:  # destroyed meanwhile (the pull request closed)
            log.info("idle preview already gone: %s", exc)
            continue
        log.info("destroyed idle preview %s/%s", preview.project, preview.environment)
        gone.append(preview)
    return gone
