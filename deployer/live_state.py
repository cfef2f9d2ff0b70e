"""Turns a target's word that a live app changed state into a stored state and, when it is news,
an `AppStateChanged` event for the sink (the bot's reporter tells GitHub; the deployer never does)."""

from __future__ import annotations

import logging

from deployer.app_state import LIVE
from deployer.events import AppStateChanged, EventSink
from store import app_states
from store.db import Sessions

log = logging.getLogger(__name__)


class LiveStates:
    """The `on_app_state` a target is given: store, then emit what changed."""

    def __init__(self, sessions: Sessions, sink: EventSink) -> None:
        self.sessions = sessions
        self.sink = sink

    async def changed(self, event: AppStateChanged) -> None:
        """Record the app's state; emit it when it differs from what was known of its deployment."""
        before = await app_states.record(
            self.sessions,
            event.project,
            event.environment,
            event.deployment_id,
            event.state,
            event.since,
            event.reason,
            event.last_lines,
        )
        # a deployment that just went live was reported live by its pipeline
        if event.state != (before or LIVE):
            log.warning(
                "%s/%s is %s: %s",
                event.project,
                event.environment,
                event.state,
                event.reason or "healthy again",
                extra={"deployment_id": event.deployment_id},
            )
            await self.sink.emit(event)
