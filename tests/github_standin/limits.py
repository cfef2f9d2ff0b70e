"""GitHub's rate limits as the stand-in enforces them.

Primary: 5,000 requests an hour per installation, told in `x-ratelimit-*` headers on every
answer; when spent, 403 with `x-ratelimit-remaining: 0` until `x-ratelimit-reset`.
Secondary: 80 content-creating requests a minute and 500 an hour, answered 403 "You have
exceeded a secondary rate limit" with `retry-after`. A test can also impose either kind for
N seconds (`State.limit`), as GitHub does when it decides an App asks too much.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

PRIMARY_PER_HOUR = 5000
CONTENT_PER_MINUTE = 80
CONTENT_PER_HOUR = 500
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
PRIMARY_MESSAGE = "API rate limit exceeded for installation."
# POSTs that create content, as GitHub counts them for its content-creation limit
CONTENT = re.compile(r"/(comments|reactions|check-runs|deployments|statuses)$|/statuses/[^/]+$")


@dataclass
class Imposed:
    """A limit a test imposed: which kind, until when."""

    secondary: bool
    until: float


@dataclass
class RateLimits:
    """Per-installation counters and imposed limits."""

    used: dict[int, list[float]] = field(default_factory=dict)
    created: dict[int, list[float]] = field(default_factory=dict)
    imposed: Imposed | None = None
    refused: int = 0

    def impose(self, seconds: float, *, secondary: bool) -> None:
        """Refuse every installation request for `seconds`."""
        self.imposed = Imposed(secondary, time.time() + seconds)

    def lift(self) -> None:
        """End an imposed limit now."""
        self.imposed = None

    def check(self, installation: int, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """The refusal (message, headers) for this request, or None; counts it when allowed."""
        now = time.time()
        used = [moment for moment in self.used.get(installation, []) if moment > now - 3600]
        self.used[installation] = used
        reset = int((used[0] if used else now) + 3600)
        if self.imposed is not None and self.imposed.until > now:
            wait = math.ceil(self.imposed.until - now)
            self.refused += 1
            if self.imposed.secondary:
                return SECONDARY_MESSAGE, {"retry-after": str(wait)}
            return PRIMARY_MESSAGE, _headers(0, int(self.imposed.until))
        if len(used) >= PRIMARY_PER_HOUR:
            self.refused += 1
            return PRIMARY_MESSAGE, _headers(0, reset)
        if method == "POST" and CONTENT.search(path):
            created = [moment for moment in self.created.get(installation, []) if moment > now - 3600]
            self.created[installation] = created
            in_minute = [moment for moment in created if moment > now - 60]
            if len(in_minute) >= CONTENT_PER_MINUTE or len(created) >= CONTENT_PER_HOUR:
                oldest = in_minute[0] + 60 if len(in_minute) >= CONTENT_PER_MINUTE else created[0] + 3600
                self.refused += 1
                return SECONDARY_MESSAGE, {"retry-after": str(math.ceil(oldest - now))}
            created.append(now)
        used.append(now)
        return None

    def headers(self, installation: int) -> dict[str, str]:
        """The `x-ratelimit-*` headers of an allowed answer."""
        used = self.used.get(installation, [])
        reset = int((used[0] if used else time.time()) + 3600)
        return _headers(PRIMARY_PER_HOUR - len(used), reset)


def _headers(remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(PRIMARY_PER_HOUR),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-used": str(PRIMARY_PER_HOUR - remaining),
        "x-ratelimit-resource": "core",
    }
