"""Deployment and traffic figures for the analytics page: pure functions over plain rows.

DORA definitions used (production only): deployment frequency = successful deployments per
day; lead time = commit time → ready; change failure rate = failed / (ready + failed);
time to restore = from a failed deployment to the next ready one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from store.environment_names import PRODUCTION


@dataclass(frozen=True)
class DeploymentRun:
    """What the figures need of one deployment."""

    environment: str
    state: str
    created_at: datetime
    started_at: datetime | None = None
    ready_at: datetime | None = None
    finished_at: datetime | None = None
    commit_time: datetime | None = None
    build_seconds: float | None = None


@dataclass(frozen=True)
class Request:
    """What the figures need of one request the router answered."""

    ts: datetime
    status: int
    duration_ms: float
    country: str | None = None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def days_back(today: date, days: int) -> list[date]:
    """The last `days` dates, oldest first, ending today."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def per_day(runs: Sequence[DeploymentRun], dates: Sequence[date]) -> list[tuple[date, int, int]]:
    """(date, deployments, failed) for each date."""
    total, failed = (
        Counter(r.created_at.date() for r in runs),
        Counter(r.created_at.date() for r in runs if r.state == "failed"),
    )
    return [(day, total[day], failed[day]) for day in dates]


def success_rate(runs: Sequence[DeploymentRun]) -> float | None:
    """Ready / (ready + failed); None when nothing finished either way."""
    ready = sum(r.state == "ready" for r in runs)
    failed = sum(r.state == "failed" for r in runs)
    return ready / (ready + failed) if ready + failed else None


def deploy_seconds(run: DeploymentRun) -> float | None:
    """Time from the start of the release to ready (after the build)."""
    if run.ready_at is None or run.started_at is None:
        return None
    return max(0.0, (run.ready_at - run.started_at).total_seconds() - (run.build_seconds or 0.0))


def timing_trend(
    runs: Sequence[DeploymentRun], dates: Sequence[date]
) -> list[tuple[date, float | None, float | None]]:
    """(date, build p50, build p90) for each date."""
    by_day: dict[date, list[float]] = {}
    for run in runs:
        if run.build_seconds is not None:
            by_day.setdefault(run.created_at.date(), []).append(run.build_seconds)
    return [
        (day, percentile(by_day.get(day, []), 0.5), percentile(by_day.get(day, []), 0.9)) for day in dates
    ]


@dataclass(frozen=True)
class Dora:
    """The four DORA metrics (None where there is no data yet)."""

    frequency_per_day: float
    lead_time_hours: float | None
    change_failure_rate: float | None
    restore_hours: float | None


def dora(runs: Sequence[DeploymentRun], days: int) -> Dora:
    """DORA metrics over production deployments within the period."""
    production = sorted((r for r in runs if r.environment == PRODUCTION), key=lambda r: r.created_at)
    ready = [r for r in production if r.state == "ready"]
    leads = [
        (r.ready_at - r.commit_time).total_seconds() / 3600 for r in ready if r.ready_at and r.commit_time
    ]
    restores: list[float] = []
    failed_since: datetime | None = None
    for run in production:
        if run.state == "failed" and failed_since is None:
            failed_since = run.finished_at or run.created_at
        elif run.state == "ready" and failed_since is not None and run.ready_at is not None:
            restores.append((run.ready_at - failed_since).total_seconds() / 3600)
            failed_since = None
    return Dora(
        frequency_per_day=len(ready) / days if days else 0.0,
        lead_time_hours=percentile(leads, 0.5),
        change_failure_rate=None if (rate := success_rate(production)) is None else 1 - rate,
        restore_hours=percentile(restores, 0.5),
    )


# the country stored for loopback clients: a user-assigned ISO 3166 code, shown as "local"
LOCAL_COUNTRY = "XL"


@dataclass(frozen=True)
class Traffic:
    """Requests, p95 latency, 5xx and 4xx rates and countries over the period."""

    requests: int
    p95_ms: float | None
    error_rate: float | None
    countries: list[tuple[str, int]]
    client_error_rate: float | None = None


def country_label(code: str | None) -> str:
    """What the countries tile shows for a stored country code."""
    return "local" if code == LOCAL_COUNTRY else code or "unknown"


def traffic(requests: Sequence[Request]) -> Traffic:
    """The traffic figures of a list of requests."""
    errors = sum(r.status >= 500 for r in requests)
    client_errors = sum(400 <= r.status < 500 for r in requests)
    countries = Counter(country_label(r.country) for r in requests).most_common(10)
    return Traffic(
        requests=len(requests),
        p95_ms=percentile([r.duration_ms for r in requests], 0.95),
        error_rate=errors / len(requests) if requests else None,
        countries=countries,
        client_error_rate=client_errors / len(requests) if requests else None,
    )


def requests_per_day(requests: Sequence[Request], dates: Sequence[date]) -> list[tuple[date, int, int]]:
    """(date, requests, 5xx) for each date."""
    total = Counter(r.ts.date() for r in requests)
    errors = Counter(r.ts.date() for r in requests if r.status >= 500)
    return [(day, total[day], errors[day]) for day in dates]


def health_score(traffic_now: Traffic, recent: Sequence[DeploymentRun]) -> int:
    """0-100: starts at 100, loses up to 40 for 5xx (10% → all 40), up to 20 for 4xx (40% → all
    20: some 404s are normal, half the answers being errors is not), up to 30 for p95 latency
    above 300 ms (1.8 s → all 30), up to 30 for the share of the last ten deployments that failed."""
    score = 100.0
    if traffic_now.error_rate is not None:
        score -= min(40.0, traffic_now.error_rate * 400)
    if traffic_now.client_error_rate is not None:
        score -= min(20.0, traffic_now.client_error_rate * 50)
    if traffic_now.p95_ms is not None:
        score -= min(30.0, max(0.0, traffic_now.p95_ms - 300) / 50)
    last = sorted(recent, key=lambda r: r.created_at)[-10:]
    finished = [r for r in last if r.state in ("ready", "failed")]
    if finished:
        score -= 30 * sum(r.state == "failed" for r in finished) / len(finished)
    return round(max(0.0, score))
