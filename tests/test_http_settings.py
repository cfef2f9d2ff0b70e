"""The HTTP limits and METRICS_TOKEN: documented defaults, every bad value named with its fix."""

from __future__ import annotations

import resource

import pytest

from bot.http_limits import FILE_RESERVE, fit_open_file_limit
from bot.http_settings import HttpLimits
from bot.settings import Settings, SettingsError


def _settings(tmp_path, **env: str) -> Settings:
    return Settings.from_env({"AUTOSTACK_DATA_DIR": str(tmp_path), **env}, dotenv=tmp_path / "none")


def test_defaults(tmp_path):
    settings = _settings(tmp_path)
    assert settings.http == HttpLimits(
        header_timeout=10.0,
        body_timeout=30.0,
        keepalive_timeout=5.0,
        max_connections=4096,
        max_header_bytes=65536,
    )
    assert settings.metrics_token is None


def test_values_are_read(tmp_path):
    settings = _settings(
        tmp_path,
        HTTP_HEADER_TIMEOUT="2.5",
        HTTP_BODY_TIMEOUT="60",
        HTTP_KEEPALIVE_TIMEOUT="0.5",
        HTTP_MAX_CONNECTIONS="100",
        HTTP_MAX_HEADER_BYTES="8192",
        METRICS_TOKEN=" scrape-me ",
    )
    assert settings.http == HttpLimits(2.5, 60.0, 0.5, 100, 8192)
    assert settings.metrics_token == "scrape-me"
    assert "scrape-me" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HTTP_HEADER_TIMEOUT": "ten"}, "HTTP_HEADER_TIMEOUT='ten' is not a number of seconds"),
        ({"HTTP_HEADER_TIMEOUT": "0"}, "HTTP_HEADER_TIMEOUT=0 is out of range; use 0.1..3600 seconds"),
        ({"HTTP_BODY_TIMEOUT": "-1"}, "HTTP_BODY_TIMEOUT=-1 is out of range"),
        ({"HTTP_KEEPALIVE_TIMEOUT": "5s"}, "HTTP_KEEPALIVE_TIMEOUT='5s' is not a number of seconds; e.g. 5"),
        ({"HTTP_MAX_CONNECTIONS": "0"}, "HTTP_MAX_CONNECTIONS=0 is out of range"),
        ({"HTTP_MAX_CONNECTIONS": "many"}, "HTTP_MAX_CONNECTIONS='many' is not a whole number"),
        ({"HTTP_MAX_HEADER_BYTES": "100"}, "HTTP_MAX_HEADER_BYTES=100 is out of range; use 1024.."),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(tmp_path, env, named):
    with pytest.raises(SettingsError, match="^" + named.replace(".", r"\.").replace("(", r"\(")):
        _settings(tmp_path, **env)


def test_the_connection_cap_is_lowered_to_what_the_open_file_limit_holds(monkeypatch):
    limits: list[tuple[int, int]] = [(4000, 5000)]
    monkeypatch.setattr(resource, "getrlimit", lambda _which: limits[-1])
    monkeypatch.setattr(resource, "setrlimit", lambda _which, pair: limits.append(pair))
    assert fit_open_file_limit(HttpLimits(max_connections=3000)).max_connections == 3000
    assert limits[-1] == (3000 + FILE_RESERVE, 5000)
    limits[:] = [(1024, 2048)]
    assert fit_open_file_limit(HttpLimits(max_connections=3000)).max_connections == 2048 - FILE_RESERVE
    assert limits[-1] == (2048, 2048)
