"""Settings, read once at start-up from the environment and an optional `.env` file.

Names follow Probot where Probot has the setting (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, …).
A missing or malformed value stops start-up with one line naming it and how to fix it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.archive.settings import RetentionSettings, retention_settings

# SettingsError and PrometheusSettings are re-exported: callers take the settings types from here
from bot.env_values import SettingsError as SettingsError
from bot.env_values import choice_value, int_value, list_value, read_dotenv
from bot.extras import require_eks
from bot.http_settings import HttpLimits, http_limits
from bot.integration_settings import ClusterSettings, cluster_settings, prometheus_settings
from bot.integration_settings import PrometheusSettings as PrometheusSettings
from store.db import DatabaseURLError, async_url

if TYPE_CHECKING:  # importing handlers/ would load every handler into the settings reader
    from handlers.permissions import ProductionLevel

log = logging.getLogger("autostack.settings")

GITHUB_WEBHOOK_MAX_BYTES = 25 * 1024 * 1024
TARGETS = ("local", "kubernetes")
# GitHub keeps (and redelivers from) three days of its webhook delivery log
REDELIVER_MAX_HOURS = 72
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal")


def _private_key(env: Mapping[str, str]) -> str | None:
    inline = env.get("PRIVATE_KEY", "").strip()
    path = env.get("PRIVATE_KEY_PATH", "").strip()
    if inline and path:
        raise SettingsError("PRIVATE_KEY and PRIVATE_KEY_PATH are both set; keep only one")
    if path:
        try:
            inline = Path(path).read_text().strip()
        except OSError as exc:
            raise SettingsError(f"PRIVATE_KEY_PATH={path!r} cannot be read: {exc.strerror}") from None
    if not inline:
        return None
    inline = inline.replace("\\n", "\n")
    if "-----BEGIN" not in inline or "PRIVATE KEY-----" not in inline:
        raise SettingsError(
            "PRIVATE_KEY is not a PEM private key; paste the .pem GitHub gave you "
            "(or set PRIVATE_KEY_PATH to its file)"
        )
    return inline


@dataclass(frozen=True)
class Settings:
    """Everything AutoStack reads from its environment, typed and grouped."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    webhook_secrets: tuple[str, ...]
    webhook_path: str = "/api/github/webhooks"
    host: str = "127.0.0.1"
    port: int = 3000
    forwarded_allow_ips: str = "127.0.0.1,::1"
    log_level: str = "info"
    log_format: str = "json"
    app_id: int | None = None
    private_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    github_api_url: str = "https://api.github.com"
    public_url: str | None = None
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    target: str = "local"
    apps_domain: str | None = None
    preview_domain: str | None = None
    router_port: int = 8080
    aws_region: str | None = None
    relay_in_web: bool = True
    deploys_in_web: bool = True
    # how long a stopping deploy worker lets running deploy jobs finish (bot.worker.drain)
    deploy_drain_seconds: int = 240
    production_permission: ProductionLevel = "maintain"
    # minutes between delivery reconciler runs (0: never); hours of GitHub's log it reads back
    redeliver_interval: int = 5
    redeliver_window: int = REDELIVER_MAX_HOURS
    cluster: ClusterSettings | None = None
    prometheus: PrometheusSettings | None = None
    http: HttpLimits = field(default_factory=HttpLimits)
    metrics_token: str | None = field(default=None, repr=False)
    # where `autostack worker` and `relay` serve /metrics (0: nowhere); `serve` uses its own port
    metrics_port: int = 0
    retention: RetentionSettings = field(default_factory=RetentionSettings)

    @property
    def embedded_database(self) -> bool:
        """True when the database is the SQLite file AutoStack manages itself."""
        return self.database_url.startswith("sqlite")

    @property
    def embedded_queue(self) -> bool:
        """True when no REDIS_URL is set and AutoStack runs its own private Redis."""
        return self.redis_url is None

    @property
    def github_app_configured(self) -> bool:
        """True when AutoStack can authenticate as a GitHub App."""
        return self.app_id is not None and self.private_key is not None

    @property
    def base_url(self) -> str:
        """Where people reach the web page (links in check runs and statuses point here)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | None = None) -> Settings:
        """Read settings from `.env` (if present) overlaid by the process environment."""
        env: dict[str, str] = {}
        dotenv = dotenv if dotenv is not None else Path(".env")
        if dotenv.is_file():
            env.update(read_dotenv(dotenv))
        env.update(os.environ if environ is None else environ)

        data_dir = Path(env.get("AUTOSTACK_DATA_DIR", "").strip() or ".autostack").absolute()
        database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'autostack.db'}"
        try:
            async_url(database_url)
        except DatabaseURLError as exc:
            raise SettingsError(str(exc)) from None
        except Exception:
            raise SettingsError(
                "DATABASE_URL is not a database URL; use postgresql://user:pass@host/db "
                "or sqlite:///path/to/file.db"
            ) from None
        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")

        webhook_path = env.get("WEBHOOK_PATH", "").strip() or "/api/github/webhooks"
        if not webhook_path.startswith("/"):
            raise SettingsError(f"WEBHOOK_PATH={webhook_path!r} must start with '/'")
        app_id_raw = env.get("APP_ID", "").strip()
        if app_id_raw and not app_id_raw.isdigit():
            raise SettingsError(
                f"APP_ID={app_id_raw!r} must be the numeric App ID from the App's settings page"
            )
        api_url = (env.get("GITHUB_API_URL", "").strip() or "https://api.github.com").rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"GITHUB_API_URL={api_url!r} must be an http(s) URL")

        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            webhook_secrets=list_value(env, "WEBHOOK_SECRET"),
            webhook_path=webhook_path,
            host=env.get("HOST", "").strip() or "127.0.0.1",
            port=int_value(env, "PORT", 3000, low=1, high=65535),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1,::1",
            log_level=choice_value(env, "LOG_LEVEL", "info", LOG_LEVELS),
            log_format=choice_value(env, "LOG_FORMAT", "json", ("json", "pretty")),
            app_id=int(app_id_raw) if app_id_raw else None,
            private_key=_private_key(env),
            client_id=env.get("GITHUB_CLIENT_ID", "").strip() or None,
            client_secret=env.get("GITHUB_CLIENT_SECRET", "").strip() or None,
            github_api_url=api_url,
            public_url=env.get("AUTOSTACK_URL", "").strip() or None,
            secret_keys=list_value(env, "SECRET_KEY"),
            target=choice_value(env, "AUTOSTACK_TARGET", "local", TARGETS),
            apps_domain=env.get("APPS_DOMAIN", "").strip() or None,
            preview_domain=env.get("PREVIEW_DOMAIN", "").strip() or None,
            router_port=int_value(env, "ROUTER_PORT", 8080, low=1, high=65535),
            aws_region=env.get("AWS_REGION", "").strip() or None,
            relay_in_web=env.get("AUTOSTACK_RELAY_IN_WEB", "1").strip() not in ("0", "false", "no"),
            deploys_in_web=env.get("AUTOSTACK_DEPLOYS_IN_WEB", "1").strip() not in ("0", "false", "no"),
            deploy_drain_seconds=int_value(env, "AUTOSTACK_DEPLOY_DRAIN_SECONDS", 240, low=0, high=86400),
            production_permission=choice_value(
                env, "PRODUCTION_PERMISSION", "maintain", ("maintain", "admin")
            ),
            redeliver_interval=int_value(env, "AUTOSTACK_REDELIVER_INTERVAL", 5, low=0, high=1440),
            redeliver_window=int_value(
                env, "AUTOSTACK_REDELIVER_WINDOW", REDELIVER_MAX_HOURS, low=1, high=REDELIVER_MAX_HOURS
            ),
            cluster=cluster_settings(env)
            if choice_value(env, "AUTOSTACK_TARGET", "local", TARGETS) == "kubernetes"
            else None,
            prometheus=prometheus_settings(env),
            http=http_limits(env),
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
            metrics_port=int_value(env, "AUTOSTACK_METRICS_PORT", 0, low=0, high=65535),
            retention=retention_settings(env),
        )
        _require_extras(settings)
        return settings

    def require_webhook_secrets(self) -> tuple[str, ...]:
        """The webhook secrets, or a clear error for a server that would accept anything."""
        if not self.webhook_secrets:
            raise SettingsError(
                "WEBHOOK_SECRET is not set; set it to the secret in your GitHub App's webhook settings"
            )
        return self.webhook_secrets


def _require_extras(settings: Settings) -> None:
    if settings.cluster is not None:
        require_eks("AUTOSTACK_TARGET=kubernetes", "kubernetes", "boto3")
    if settings.retention.archive_bucket:
        require_eks("ARCHIVE_BUCKET (archives in S3)", "boto3")
    if settings.aws_region:
        require_eks("AWS_REGION (mail through SES, domains through Route 53)", "boto3")


def require_secret_keys(settings: Settings) -> tuple[str, ...]:
    """The keys env vars are encrypted with, or a clear error when none is set."""
    if not settings.secret_keys:
        raise SettingsError(
            "SECRET_KEY is not set; set it to a long random value (e.g. `openssl rand -base64 32`), "
            "newest first and comma-separated when rotating"
        )
    return settings.secret_keys


def local_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the data folder, made on first use (embedded defaults only)."""
    path = data_dir / name
    if path.is_file():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def with_local_secrets(settings: Settings) -> Settings:
    """On embedded defaults, secrets nobody set are made once and kept in the data folder."""
    if not settings.embedded_database:
        return settings
    webhook_secrets, secret_keys = settings.webhook_secrets, settings.secret_keys
    if not webhook_secrets and not settings.github_app_configured:
        webhook_secrets = (local_secret(settings.data_dir, "webhook-secret"),)
        log.info("no WEBHOOK_SECRET set: using the one in %s", settings.data_dir / "webhook-secret")
    if not secret_keys:
        secret_keys = (local_secret(settings.data_dir, "secret-key"),)
    return dataclasses.replace(settings, webhook_secrets=webhook_secrets, secret_keys=secret_keys)
