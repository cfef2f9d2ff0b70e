"""What users read about a live app's state and runtime log (pure): the GitHub Deployment
description, the CLI's heading and lines, the API's query parameters, pod log arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cli.runtime_logs import heading, line
from bot.reporter.app_status import GITHUB_STATES, describe
from bot.web.runtime_logs import QueryError, runtime_query
from deployer.app_state import APP_STATES, CRASHED, LIVE, RESTARTING
from deployer.events import AppStateChanged
from deployer.runtime_logs import RuntimeQuery

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


def changed(state: str, reason: str = "", lines: tuple[str, ...] = ()) -> AppStateChanged:
    return AppStateChanged("shop", "pr-2", 7, state, NOW, reason, lines)


@pytest.mark.parametrize(
    ("event", "url", "description"),
    [
        (changed(LIVE), "http://pr-2.shop.localhost", "Healthy again; live at http://pr-2.shop.localhost"),
        (changed(LIVE), None, "Healthy again"),
        (
            changed(
                RESTARTING, "the app exited with code 3; restarting it", ("ok", "KeyError: 'DATABASE_URL'")
            ),
            None,
            "Restarting since 10:30:00 UTC: the app exited with code 3; restarting it; last line: "
            "KeyError: 'DATABASE_URL'",
        ),
        (changed(CRASHED, "x" * 200), None, "Crashed since 10:30:00 UTC: " + "x" * 111 + "…"),
    ],
    ids=["live with url", "live without", "restarting names the last line", "clipped to 140"],
)
def test_deployment_description(event, url, description):
    assert describe(event, url) == description
    assert len(describe(event, url)) <= 140


def test_every_state_has_a_github_state():
    assert set(GITHUB_STATES) == set(APP_STATES)
    assert GITHUB_STATES[LIVE] == "success" and GITHUB_STATES[CRASHED] == "failure"


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (
            {"type": "environment", "project": "shop", "environment": "production", "deployment": 12,
             "state": "live", "since": None, "reason": None, "last_lines": []},
            "shop/production · live (deployment 12)",
        ),
        (
            {"type": "environment", "project": "shop", "environment": "pr-2", "deployment": 9,
             "state": "crashed", "since": "2026-12-02T10:30:00+00:00", "reason": "exited 4, 2 times",
             "last_lines": ["Traceback", "KeyError: 'X'"]},
            "shop/pr-2 · crashed (deployment 9) since 2026-12-02 10:30:00 UTC: exited 4, 2 times"
            "\n   | Traceback\n   | KeyError: 'X'",
        ),
    ],
    ids=["live", "crashed with its last lines"],
)  # fmt: skip
def test_cli_heading(event, shown):
    assert heading(event) == shown


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        ({"at": "2026-12-02T10:30:01.5+00:00", "text": "GET / 200", "source": "app"}, "10:30:01 GET / 200"),
        (
            {"at": "2026-12-02T10:30:02+00:00", "text": "restarted", "source": "autostack"},
            "10:30:02 ── restarted",
        ),
    ],
)
def test_cli_line(event, shown):
    assert line(event) == shown


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({}, RuntimeQuery()),
        ({"follow": "1", "tail": "0"}, RuntimeQuery(tail=0, follow=True)),
        (
            {"since": "10m", "previous": "true"},
            RuntimeQuery(since=NOW - timedelta(minutes=10), previous=True),
        ),
        ({"since": "2026-12-02T09:00:00"}, RuntimeQuery(since=datetime(2026, 12, 2, 9, tzinfo=UTC))),
        ({"after": "41"}, RuntimeQuery(after=41)),
    ],
    ids=["defaults", "follow new lines only", "an age", "a time without zone is UTC", "after a seq"],
)
def test_runtime_query(params, query):
    assert runtime_query(params, NOW) == query


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tail": "-1"}, "tail='-1' is not a whole number from 0 to 5000"),
        ({"tail": "99999"}, "tail='99999' is not a whole number from 0 to 5000"),
        ({"follow": "maybe"}, "follow='maybe' is not a yes/no value; use follow=1 or follow=0"),
        ({"since": "yesterday"}, "since='yesterday' is neither a time"),
        ({"after": "x"}, "after='x' is not a whole number"),
    ],
)
def test_runtime_query_names_the_bad_parameter(params, message):
    with pytest.raises(QueryError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        runtime_query(params, NOW)
