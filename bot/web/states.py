"""What the page shows for a deployment's state: the stored state corrected by what happened
after it (a later build went live, or its environment was destroyed). Pure: no I/O."""

from __future__ import annotations

from deployer.app_state import CRASHED, RESTARTING, UNHEALTHY
from store.check_gates import BLOCKED, WAITING

# the glyph before each state's word; the word itself is always shown, so the icon is decoration
ICONS = {
    "ready": "✓",
    "failed": "✕",
    "cancelled": "⊘",
    "superseded": "↷",
    "destroyed": "⌫",
    "queued": "○",
    "building": "◐",
    "deploying": "◑",
    # built, held for the required checks (`deploy.after: checks`)
    WAITING: "⏸",
    BLOCKED: "⛔",
    RESTARTING: "↻",
    CRASHED: "✕",
    UNHEALTHY: "⚠",
}


def shown_state(state: str, environment_state: str | None, is_current: bool) -> str:
    """`ready` only while the build is its active environment's live one; a ready build of a
    destroyed environment is `destroyed`, one replaced by a later build `superseded`."""
    if state != "ready":
        return state
    if environment_state == "destroyed":
        return "destroyed"
    return "ready" if is_current else "superseded"


def icon(state: str) -> str:
    """The glyph shown (aria-hidden) before a state's word."""
    return ICONS.get(state, "•")
