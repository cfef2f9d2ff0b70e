"""The CLI's pure parts: durations, shown states, the ls table, and where credentials come from."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.config import config_path, resolve
from bot.cli.errors import CliError
from bot.cli.listing import shown_state, span, table

NOW = datetime(2025, 1, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250ms"),
        (1.25, "1.2s"),
        (42.9, "42s"),
        (185, "3m 05s"),
        (7800, "2h 10m"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
    ],
)
def test_span(seconds, text):
    assert span(seconds) == text


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        ({"state": "ready", "live": True, "environment_state": "active"}, "ready"),
        ({"state": "ready", "live": False, "environment_state": "active"}, "superseded"),
        ({"state": "ready", "live": False, "environment_state": "destroyed"}, "destroyed"),
        ({"state": "failed", "live": False, "environment_state": "active"}, "failed"),
        ({"state": "building", "live": False, "environment_state": "active"}, "building"),
        ({"state": "superseded", "live": False, "environment_state": "active"}, "superseded"),
    ],
)
def test_shown_state(row, shown):
    assert shown_state(row) == shown


def test_table_aligns_columns_marks_live_and_shows_running_durations():
    rows = [
        {
            "id": 12,
            "project": "shop",
            "environment": "pr-7",
            "state": "building",
            "live": False,
            "environment_state": "active",
            "commit": None,
            "trigger": "cli",
            "created_at": "2025-01-02T11:59:30+00:00",
            "finished_at": None,
            "url": None,
            "reason": None,
        },
        {
            "id": 3,
            "project": "shop",
            "environment": "production",
            "state": "ready",
            "live": True,
            "environment_state": "active",
            "commit": "0123456789abcdef",
            "trigger": "push",
            "created_at": "2025-01-02T09:00:00",
            "finished_at": "2025-01-02T09:01:05",
            "url": "http://shop.localhost:8080",
            "reason": None,
        },
    ]
    assert table(rows, NOW).splitlines() == [
        "LIVE  PROJECT  ENV         ID  STATE     SOURCE   AGE         DURATION  URL",
        "      shop     pr-7        12  building  cli      30s ago     30s…",
        "*     shop     production  3   ready     0123456  3h 00m ago  1m 05s    http://shop.localhost:8080",
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("flag", "env", "local", "saved", "expected"),
    [
        (None, {"AUTOSTACK_TOKEN": "e"}, "l", None, ("http://127.0.0.1:3000", "e")),
        (
            "http://x:1",
            {"AUTOSTACK_TOKEN": "e", "AUTOSTACK_URL": "http://y:2"},
            None,
            None,
            ("http://x:1", "e"),
        ),
        (None, {"AUTOSTACK_TOKEN": "e"}, None, ("https://s.example", "c"), ("https://s.example", "e")),
        (None, {"PORT": "3100"}, "l", ("https://s.example", "c"), ("http://127.0.0.1:3100", "l")),
        (None, {}, None, ("https://s.example/", "c"), ("https://s.example", "c")),
        # the local admin token never goes to a remote server, a saved one only to its own
        ("https://s.example", {}, "l", ("https://s.example", "c"), ("https://s.example", "c")),
        ("https://other.example", {}, "l", ("https://s.example", "c"), None),
    ],
)
def test_resolve_order(tmp_path, flag, env, local, saved, expected):
    env = {**env, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    if local:
        _write(tmp_path / "app" / ".autostack" / "admin-token", local + "\n")
    if saved:
        _write(config_path(env), f'{{"url": "{saved[0]}", "token": "{saved[1]}"}}')
    (tmp_path / "app").mkdir(exist_ok=True)
    if expected is None:
        with pytest.raises(CliError, match=re.escape("no API token for https://other.example")):
            resolve(flag, env, tmp_path / "app")
    else:
        creds = resolve(flag, env, tmp_path / "app")
        assert (creds.url, creds.token) == expected


def test_config_path_follows_xdg_then_home():
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/autostack/config.json")
    assert config_path({"HOME": "/home/u"}) == Path("/home/u/.config/autostack/config.json")
