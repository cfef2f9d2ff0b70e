"""GitHub's log of the App's webhook deliveries: read it page by page, ask for a redelivery.

Both calls authenticate as the App itself (its JWT): GitHub refuses installation tokens there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from githubkit import GitHub

from bot.github.errors import GitHubPermanentError
from bot.github.ratelimit import RetryPolicy
from bot.github.session import call_once

PAGE_SIZE = 100
# One quick retry for a blip; a longer outage or a rate limit ends the run, and the next
# interval tries again (the reconciler is never in a hurry).
HOOK_POLICY = RetryPolicy(attempts=2, max_wait=5.0)
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt in GitHub's delivery log; every attempt of an event shares its `guid`."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool
    status_code: int
    event: str
    action: str | None
    installation_id: int | None

    @property
    def ok(self) -> bool:
        """True when AutoStack answered 2xx (the delivery was stored)."""
        return 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class AttemptPage:
    """One page of the log, newest first, and the cursor of the next (None on the last)."""

    attempts: list[DeliveryAttempt]
    next_cursor: str | None


def next_cursor(link: str | None) -> str | None:
    """The `cursor` parameter of the rel="next" URL in a Link header; None when there is none."""
    if not link:
        return None
    match = _NEXT_LINK.search(link)
    if match is None:
        return None
    values = parse_qs(urlsplit(match.group(1)).query).get("cursor")
    return values[0] if values else None


def attempt_from(item: Any) -> DeliveryAttempt:
    """A `hook-delivery-item` as GitHub lists it; GitHubPermanentError naming what is wrong."""
    try:
        return DeliveryAttempt(
            id=int(item["id"]),
            guid=str(item["guid"]),
            delivered_at=datetime.fromisoformat(str(item["delivered_at"]).replace("Z", "+00:00")),
            redelivery=bool(item["redelivery"]),
            status_code=int(item["status_code"]),
            event=str(item["event"]),
            action=item.get("action"),
            installation_id=item.get("installation_id"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubPermanentError(f"listing webhook deliveries: an entry did not parse ({exc!r})") from exc


class HookDeliveries:
    """The App's webhook delivery log (`/app/hook/deliveries`), called with the App's JWT."""

    def __init__(self, app_gh: GitHub[Any], policy: RetryPolicy = HOOK_POLICY) -> None:
        self._gh = app_gh
        self._policy = policy

    async def page(self, cursor: str | None = None) -> AttemptPage:
        """One page of up to 100 attempts, newest first, starting at `cursor` (None: the newest)."""
        what = "listing the App's webhook deliveries"
        params: dict[str, Any] = {"per_page": PAGE_SIZE}
        if cursor is not None:
            params["cursor"] = cursor
        response = await self._policy.run(
            what, lambda: call_once(what, lambda: self._gh.rest.apps.async_list_webhook_deliveries(**params))
        )
        body = response.json()
        if not isinstance(body, list):
            raise GitHubPermanentError(f"{what}: GitHub answered {type(body).__name__}, not a list")
        return AttemptPage([attempt_from(item) for item in body], next_cursor(response.headers.get("link")))

    async def redeliver(self, attempt_id: int) -> None:
        """Ask GitHub to send this attempt's delivery again (same guid, a new attempt)."""
        what = f"asking GitHub to redeliver webhook delivery {attempt_id}"
        await self._policy.run(
            what,
            lambda: call_once(what, lambda: self._gh.rest.apps.async_redeliver_webhook_delivery(attempt_id)),
        )
