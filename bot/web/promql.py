"""Traffic from ingress-nginx's metrics in Prometheus, pure: the PromQL the analytics page sends and
the mapping of Prometheus' results into the figures the page already draws (stats.Traffic)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.web.stats import Traffic
from deployer.targets.kubernetes.render import NAMESPACE_PREFIX

REQUESTS = "nginx_ingress_controller_requests"
DURATION_BUCKETS = "nginx_ingress_controller_request_duration_seconds_bucket"
DAY = 86_400
NO_COUNTRIES = "countries need the local router's log or GeoIP in the ingress"


def quote(value: str) -> str:
    """A PromQL string literal (double-quoted; backslash and quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(project: str, environment: str | None, namespace_label: str = "namespace") -> str:
    """The label matchers of one project's ingresses: its namespace, and the Ingress named after
    the environment (manifests/ingress.yaml.j2) when one environment is asked for."""
    matchers = [f"{namespace_label}={quote(NAMESPACE_PREFIX + project)}"]
    if environment:
        matchers.append(f"ingress={quote(environment)}")
    return "{" + ",".join(matchers) + "}"


def requests_by_status(match: str, days: int) -> str:
    """Requests per status code over the last `days` days (instant query at now)."""
    return f"sum by (status) (increase({REQUESTS}{match}[{days}d]))"


def p95_seconds(match: str, days: int) -> str:
    """The 95th percentile request duration in seconds over the last `days` days."""
    return f"histogram_quantile(0.95, sum by (le) (increase({DURATION_BUCKETS}{match}[{days}d])))"


def daily_by_status(match: str) -> str:
    """Requests per status code in the day ending at each evaluation time (range query, 1d step)."""
    return requests_by_status(match, 1)


@dataclass(frozen=True, slots=True)
class DayRange:
    """query_range's start, end and step for a list of dates: one point per date, at its end."""

    start: float
    end: float
    step: int = DAY


def day_range(dates: Sequence[date]) -> DayRange:
    """Evaluate at each date's following midnight (UTC), so each point covers exactly that date."""
    first, last = dates[0], dates[-1]
    return DayRange(_midnight(first + timedelta(days=1)), _midnight(last + timedelta(days=1)))


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def number(sample: Sequence[Any]) -> float | None:
    """The value of a [timestamp, "value"] pair; None for NaN or ±Inf (no data in the window)."""
    value = float(sample[1])
    return value if math.isfinite(value) else None


def _is_error(status: str) -> bool:
    return status.startswith("5")


def traffic(by_status: Sequence[dict[str, Any]], p95: Sequence[dict[str, Any]]) -> Traffic:
    """stats.Traffic from a by-status vector and a p95 vector (counts rounded: increase()
    extrapolates); no countries, which ingress-nginx does not record."""
    counts = [(row["metric"].get("status", ""), number(row["value"]) or 0.0) for row in by_status]
    total = sum(n for _, n in counts)
    errors = sum(n for status, n in counts if _is_error(status))
    client_errors = sum(n for status, n in counts if status.startswith("4"))
    seconds = number(p95[0]["value"]) if p95 else None
    return Traffic(
        requests=round(total),
        p95_ms=seconds * 1000 if seconds is not None else None,
        error_rate=errors / total if total > 0 else None,
        countries=[],
        client_error_rate=client_errors / total if total > 0 else None,
    )


def per_day(matrix: Sequence[dict[str, Any]], dates: Sequence[date]) -> list[tuple[date, int, int]]:
    """(date, requests, 5xx) for each date from a by-status range result; a point at time T is
    the day before T (see day_range)."""
    totals = dict.fromkeys(dates, 0.0)
    errors = dict.fromkeys(dates, 0.0)
    for row in matrix:
        bad = _is_error(row["metric"].get("status", ""))
        for sample in row["values"]:
            day = datetime.fromtimestamp(float(sample[0]) - DAY, UTC).date()
            value = number(sample) or 0.0
            if day in totals:
                totals[day] += value
                if bad:
                    errors[day] += value
    return [(day, round(totals[day]), round(errors[day])) for day in dates]
