"""Retry decisions (pure) and the dry-run GitHub."""

from __future__ import annotations

import pytest

from bot.github.dryrun import DryRunApps
from bot.github.ratelimit import HTTPFailure, retry_delay
from bot.reporter.sticky import StickyComments

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "headers", "message", "attempt", "expected"),
    [
        (429, {"Retry-After": "7"}, "", 0, 7.0),
        (403, {"Retry-After": "30"}, "secondary rate limit", 0, 30.0),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 100)}, "", 0, 101.0),
        (403, {}, "You have exceeded a secondary rate limit", 1, 60.0),
        (403, {}, "Resource not accessible by integration", 0, None),
        (502, {}, "", 2, 4.0),
        (404, {}, "Not Found", 0, None),
        (422, {}, "Validation Failed", 0, None),
        (401, {}, "Bad credentials", 0, None),
    ],
)
def test_retry_delay(status, headers, message, attempt, expected):
    assert retry_delay(HTTPFailure(status, headers, message), attempt, NOW) == expected


async def test_dry_run_records_and_keeps_one_sticky_comment(sessions):
    apps = DryRunApps()
    client = apps.installation(5)
    sticky = StickyComments(sessions)
    await sticky.upsert(client, "o/r", 3, "<!-- autostack:pr-comment -->\none")
    await StickyComments(sessions).upsert(client, "o/r", 3, "<!-- autostack:pr-comment -->\ntwo")
    await client.create_commit_status(
        "o/r", "a" * 40, state="pending", context="autostack/x", description="d", target_url="u"
    )
    assert [call.action for call in apps.calls] == ["comment", "edit comment", "set commit status"]
    assert len(await client.list_issue_comments("o/r", 3)) == 1
    assert str(apps.calls[-1]).startswith("set commit status o/r sha='aaaaaaa'")
