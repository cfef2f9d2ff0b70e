"""The analytics page's edge to Prometheus' HTTP API (/api/v1/query and /api/v1/query_range):
every failure becomes a PrometheusError whose message says what went wrong, for the page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from bot.settings import PrometheusSettings
from bot.web import promql
from bot.web.stats import Traffic

TIMEOUT_SECONDS = 10.0


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or refused; the message names the server and the reason."""


@dataclass(frozen=True, slots=True)
class IngressTraffic:
    """The page's traffic figures and its requests-per-day series, from ingress-nginx's metrics."""

    traffic: Traffic
    per_day: list[tuple[date, int, int]]


def shown(url: str) -> str:
    """The server's URL without credentials, for messages."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


def result_of(where: str, status: int, body: bytes, result_type: str) -> list[dict[str, Any]]:
    """The `data.result` of an API answer, checked against the documented envelope."""
    try:
        answer = json.loads(body)
    except ValueError:
        hint = "; check PROMETHEUS_TOKEN" if status in (401, 403) else ""
        raise PrometheusError(f"{where} answered HTTP {status} without Prometheus' JSON{hint}") from None
    if not isinstance(answer, dict):
        raise PrometheusError(f"{where} answered HTTP {status} with JSON that is not an API answer")
    if answer.get("status") == "error":
        raise PrometheusError(f"{where} refused the query: {answer.get('errorType')}: {answer.get('error')}")
    data = answer.get("data")
    if answer.get("status") != "success" or not isinstance(data, dict):
        raise PrometheusError(f"{where} answered HTTP {status} without a status of success")
    if data.get("resultType") != result_type:
        raise PrometheusError(f"{where} returned a {data.get('resultType')}, expected a {result_type}")
    return list(data.get("result") or [])


class Prometheus:
    """A client of one Prometheus server, open for the duration of an `async with`."""

    def __init__(self, settings: PrometheusSettings) -> None:
        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
        self.where = f"Prometheus at {shown(settings.url)}"
        self.http = httpx.AsyncClient(base_url=settings.url, headers=headers, timeout=TIMEOUT_SECONDS)

    async def __aenter__(self) -> Prometheus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _ask(self, path: str, form: dict[str, str], result_type: str) -> list[dict[str, Any]]:
        # POST with a form body: the documented way to send queries too long for a URL
        try:
            response = await self.http.post(path, data=form)
        except httpx.TimeoutException:
            raise PrometheusError(f"{self.where} did not answer within {TIMEOUT_SECONDS:.0f}s") from None
        except httpx.HTTPError as exc:
            raise PrometheusError(f"{self.where} is not reachable: {exc or type(exc).__name__}") from exc
        return result_of(self.where, response.status_code, response.content, result_type)

    async def query(self, query: str, at: float) -> list[dict[str, Any]]:
        """An instant query's vector at `at` (unix seconds)."""
        return await self._ask("/api/v1/query", {"query": query, "time": str(round(at, 3))}, "vector")

    async def query_range(self, query: str, span: promql.DayRange) -> list[dict[str, Any]]:
        """A range query's matrix."""
        form = {"query": query, "start": str(span.start), "end": str(span.end), "step": str(span.step)}
        return await self._ask("/api/v1/query_range", form, "matrix")


async def ingress_traffic(
    prometheus: Prometheus,
    namespace_label: str,
    project: str,
    environment: str | None,
    dates: Sequence[date],
    now: float,
) -> IngressTraffic:
    """Requests, p95 latency and 5xx rate over `dates` (ending now), and requests per day."""
    match = promql.selector(project, environment, namespace_label)
    days = len(dates)
    by_status, p95, daily = await asyncio.gather(
        prometheus.query(promql.requests_by_status(match, days), now),
        prometheus.query(promql.p95_seconds(match, days), now),
        prometheus.query_range(promql.daily_by_status(match), promql.day_range(dates)),
    )
    return IngressTraffic(promql.traffic(by_status, p95), promql.per_day(daily, dates))
