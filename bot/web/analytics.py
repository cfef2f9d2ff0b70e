"""The analytics page of a project (optionally one environment): deployments, timings, DORA,
traffic (from ingress-nginx's metrics in Prometheus when PROMETHEUS_URL is set, else from the
router's request log), and a health score; charts are server-side SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from bot.settings import PrometheusSettings
from bot.web import charts, promql, stats
from bot.web.context import Viewer, page, refuse, render, team_project, web_state
from bot.web.prometheus import Prometheus, PrometheusError, ingress_traffic
from store.analytics import deployment_timings, request_hits
from store.db import reading
from store.models import utcnow
from store.project_pages import active_environments

PERIODS = (7, 30, 90)
MAX_HITS = 200_000
NO_TRAFFIC = stats.Traffic(0, None, None, [])


@dataclass(frozen=True, slots=True)
class TrafficView:
    """The traffic part of the page: figures, requests per day, where they came from, and what is
    missing (countries from Prometheus) or went wrong (Prometheus down)."""

    figures: stats.Traffic
    per_day: list[tuple[date, int, int]]
    source: str
    error: str | None = None
    note: str | None = None


async def from_prometheus(
    settings: PrometheusSettings, project: str, environment: str | None, dates: Sequence[date]
) -> TrafficView:
    """Traffic from ingress-nginx's metrics; when Prometheus fails the page says so and why."""
    source = "ingress-nginx metrics in Prometheus"
    try:
        async with Prometheus(settings) as prometheus:
            found = await ingress_traffic(
                prometheus, settings.namespace_label, project, environment, dates, utcnow().timestamp()
            )
    except PrometheusError as exc:
        empty = [(day, 0, 0) for day in dates]
        return TrafficView(NO_TRAFFIC, empty, source, error=f"traffic is unavailable: {exc}")
    return TrafficView(found.traffic, found.per_day, source, note=promql.NO_COUNTRIES)


async def analytics(request: Request, viewer: Viewer) -> Response:
    """Figures for the last ?days= (7, 30 or 90) days, for all environments or ?environment=."""
    days = (
        int(request.query_params.get("days", "30"))
        if request.query_params.get("days", "30").isdigit()
        else 30
    )
    days = days if days in PERIODS else 30
    environment = request.query_params.get("environment") or None
    since = utcnow() - timedelta(days=days)
    prometheus = web_state(request).settings.prometheus
    async with reading(web_state(request).sessions) as tx:
        project = await team_project(tx, viewer, request.path_params["name"])
        if project is None:
            return refuse(request, viewer, 404, f"no project {request.path_params['name']!r} in your team")
        timings = await deployment_timings(tx, project.id, since, environment)
        runs = [stats.DeploymentRun(*row) for row in timings]
        requests = (
            [stats.Request(*row) for row in await request_hits(tx, project.id, since, environment, MAX_HITS)]
            if prometheus is None  # with Prometheus, the router's log is not where traffic is
            else []
        )
        envs = await active_environments(tx, project.id)
    dates = stats.days_back(utcnow().date(), days)
    traffic = (
        await from_prometheus(prometheus, project.name, environment, dates)
        if prometheus is not None
        else TrafficView(stats.traffic(requests), stats.requests_per_day(requests, dates), "the router's log")
    )
    return render(
        request,
        "analytics.html",
        viewer,
        project=project,
        days=days,
        periods=PERIODS,
        environment=environment,
        environments=envs,
        total=len(runs),
        success=stats.success_rate(runs),
        build_p50=stats.percentile([r.build_seconds for r in runs if r.build_seconds is not None], 0.5),
        build_p90=stats.percentile([r.build_seconds for r in runs if r.build_seconds is not None], 0.9),
        deploy_p50=stats.percentile([s for r in runs if (s := stats.deploy_seconds(r)) is not None], 0.5),
        deploy_p90=stats.percentile([s for r in runs if (s := stats.deploy_seconds(r)) is not None], 0.9),
        dora=stats.dora(runs, days),
        traffic=traffic.figures,
        traffic_view=traffic,
        health=stats.health_score(traffic.figures, runs),
        deploys_chart=Markup(charts.bars("Deployments per day (failed in red)", stats.per_day(runs, dates))),
        build_chart=Markup(charts.lines("Build time per day", stats.timing_trend(runs, dates))),
        traffic_chart=Markup(charts.bars("Requests per day (5xx in red)", traffic.per_day)),
    )


routes = [page("/projects/{name}/analytics", analytics, "analytics.view")]
