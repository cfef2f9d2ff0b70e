"""When an event happened, and whether that is older than the newest head an environment
has seen (store.environments.record_head remembers it), so events that arrive out of order lose.

GitHub does not promise delivery order. Each push or pull_request event carries a time set
by GitHub when it happened (a push's `repository.pushed_at`, a pull request's `updated_at`);
an event older than the one that last moved the environment is stale and deploys nothing.
Server times are used rather than commit timestamps, which authors set and which go
backwards on a force push to an older commit (that push must still deploy).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def event_time(value: Any) -> datetime | None:
    """A GitHub time as aware UTC: epoch seconds (push payloads) or ISO 8601 text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_stale(seen_at: datetime | None, at: datetime | None) -> bool:
    """Whether an event at `at` is older than the newest one the environment has seen.

    Equal times (GitHub's times have one-second resolution) are not stale: the later
    arrival wins, which is right for a reopen in the same second as a close.
    """
    return seen_at is not None and at is not None and at < seen_at
