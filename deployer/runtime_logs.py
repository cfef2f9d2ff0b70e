"""What a target hands back as an environment's runtime log: masked lines of the app's output
(and AutoStack's notes about its process: started, exited, restarted)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

DEFAULT_TAIL = 200
MAX_TAIL = 5000


@dataclass(frozen=True, slots=True)
class RuntimeLine:
    """One line an environment's app printed; `seq` grows per environment (0 where the target
    has no numbering, as with pod logs), `source` is `app` or `autostack`."""

    seq: int
    at: datetime
    text: str
    source: str = "app"


@dataclass(frozen=True, slots=True)
class RuntimeQuery:
    """Which lines to read: the last `tail`, only those after `after` (a seq) or since a
    moment, of the running or (`previous`) the crashed container; `follow` keeps going."""

    tail: int = DEFAULT_TAIL
    after: int | None = None
    since: datetime | None = None
    follow: bool = False
    previous: bool = False


@runtime_checkable
class RuntimeLogSource(Protocol):
    """A target that can read back what an environment's app printed."""

    def runtime_log(self, project: str, environment: str, query: RuntimeQuery) -> AsyncIterator[RuntimeLine]:
        """The environment's lines, oldest first; with `query.follow`, new ones as they come."""
        ...
