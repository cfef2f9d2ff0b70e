"""How long deployment logs and webhook payloads stay in the database, and where they go next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.env_values import SettingsError, int_value


@dataclass(frozen=True)
class RetentionSettings:
    """RETAIN_LOGS_DAYS, RETAIN_PAYLOADS_DAYS and the S3 archive; without ARCHIVE_BUCKET nothing is
    pruned, since a log or payload is deleted only once its archive is written."""

    logs_days: int = 30
    payloads_days: int = 7
    archive_bucket: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


def retention_settings(env: Mapping[str, str]) -> RetentionSettings:
    """The retention settings from the environment."""
    bucket = env.get("ARCHIVE_BUCKET", "").strip() or None
    region = env.get("AWS_REGION", "").strip() or None
    endpoint = env.get("ARCHIVE_ENDPOINT_URL", "").strip() or None
    if bucket is not None and region is None:
        raise SettingsError(f"ARCHIVE_BUCKET={bucket!r} needs AWS_REGION, the region the bucket is in")
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise SettingsError(f"ARCHIVE_ENDPOINT_URL={endpoint!r} must be an http(s) URL")
    return RetentionSettings(
        logs_days=int_value(env, "RETAIN_LOGS_DAYS", 30, low=1, high=36500),
        payloads_days=int_value(env, "RETAIN_PAYLOADS_DAYS", 7, low=1, high=36500),
        archive_bucket=bucket,
        region=region,
        endpoint_url=endpoint,
    )
