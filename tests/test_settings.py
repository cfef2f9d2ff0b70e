"""Settings: read once, and a bad value stops start-up with a line naming it and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, read_dotenv

KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
-----END RSA PRIVATE KEY-----"""


def test_defaults_are_the_embedded_ones(tmp_path):
    settings = Settings.from_env({"AUTOSTACK_DATA_DIR": str(tmp_path)}, dotenv=tmp_path / "none")
    assert settings.embedded_database and settings.embedded_queue
    assert settings.database_url == f"sqlite:///{tmp_path / 'autostack.db'}"
    assert (settings.port, settings.webhook_path, settings.target) == (3000, "/api/github/webhooks", "local")
    assert settings.github_api_url == "https://api.github.com"
    assert not settings.github_app_configured


def test_probot_names_and_secret_rotation(tmp_path):
    settings = Settings.from_env(
        {
            "APP_ID": "123",
            "PRIVATE_KEY": KEY.replace("\n", "\\n"),
            "WEBHOOK_SECRET": "new, old",
            "PORT": "8000",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DATABASE_URL": "postgresql://u:p@db/autostack",
        },
        dotenv=tmp_path / "none",
    )
    assert settings.app_id == 123 and settings.private_key == KEY
    assert settings.webhook_secrets == ("new", "old")
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert not settings.embedded_database and not settings.embedded_queue


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nexport PORT=4000\nLOG_LEVEL='debug'\nWEBHOOK_SECRET=\"s3\"\n")
    settings = Settings.from_env({"PORT": "5000"}, dotenv=dotenv)
    assert (settings.port, settings.log_level, settings.webhook_secrets) == (5000, "debug", ("s3",))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT='eighty' is not a whole number"),
        ({"PORT": "70000"}, "PORT=70000 is out of range"),
        ({"APP_ID": "my-app"}, "APP_ID='my-app' must be the numeric App ID"),
        ({"PRIVATE_KEY": "not a key"}, "PRIVATE_KEY is not a PEM private key"),
        (
            {"PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
            "PRIVATE_KEY_PATH='/nonexistent/key.pem' cannot be read",
        ),
        ({"PRIVATE_KEY": KEY, "PRIVATE_KEY_PATH": "/x"}, "PRIVATE_KEY and PRIVATE_KEY_PATH are both set"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: unsupported database 'mysql'"),
        ({"DATABASE_URL": "::::"}, "DATABASE_URL is not a database URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' is not one of"),
        ({"AUTOSTACK_TARGET": "heroku"}, "AUTOSTACK_TARGET='heroku' is not one of: local, kubernetes"),
        ({"WEBHOOK_PATH": "hooks"}, "WEBHOOK_PATH='hooks' must start with '/'"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL='api.github.com' must be an http(s) URL"),
        ({"PROMETHEUS_URL": "prometheus:9090"}, "PROMETHEUS_URL='prometheus:9090' must be an http(s) URL"),
        (
            {"PROMETHEUS_URL": "http://p:9090", "PROMETHEUS_NAMESPACE_LABEL": "exported-namespace"},
            "PROMETHEUS_NAMESPACE_LABEL='exported-namespace' is not a label name",
        ),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(tmp_path, env, named):
    with pytest.raises(SettingsError, match="^" + named.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env, dotenv=tmp_path / "none")


def test_prometheus_is_optional_and_its_token_secret(tmp_path):
    assert Settings.from_env({}, dotenv=tmp_path / "none").prometheus is None
    settings = Settings.from_env(
        {
            "PROMETHEUS_URL": "http://prometheus.monitoring:9090/",
            "PROMETHEUS_TOKEN": "s3cret",
            "PROMETHEUS_NAMESPACE_LABEL": "exported_namespace",
        },
        dotenv=tmp_path / "none",
    )
    assert settings.prometheus is not None
    assert settings.prometheus.url == "http://prometheus.monitoring:9090"
    assert (settings.prometheus.token, settings.prometheus.namespace_label) == (
        "s3cret",
        "exported_namespace",
    )
    assert "s3cret" not in repr(settings)


def test_malformed_dotenv_line_is_named(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env:2: expected KEY=VALUE"):
        read_dotenv(dotenv)


def test_cli_stops_with_one_line_naming_the_setting(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={"PATH": "/usr/bin:/bin", "PORT": "nope", "AUTOSTACK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "autostack: PORT='nope' is not a whole number; set it to e.g. 3000"


def test_worker_without_redis_url_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        env={"PATH": "/usr/bin:/bin", "AUTOSTACK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=60,
    )
    assert result.returncode == 2
    assert "needs REDIS_URL" in result.stderr
