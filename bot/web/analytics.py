"""The analytics page of a project (optionally one environment): deployments, timings, DORA,
traffic from the router's request log, and a health score; charts are server-side SVG."""

from __future__ import annotations

from datetime import timedelta

from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.web import charts, stats
from bot.web.context import Viewer, page, refuse, render, team_project, web_state
from store.models import Deployment, Environment, RequestHit, utcnow

PERIODS = (7, 30, 90)
MAX_HITS = 200_000


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
    async with web_state(request).sessions() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return refuse(request, viewer, 404, f"no project {request.path_params['name']!r} in your team")
        query = select(
            Deployment.environment,
            Deployment.state,
            Deployment.created_at,
            Deployment.started_at,
            Deployment.ready_at,
            Deployment.finished_at,
            Deployment.commit_time,
            Deployment.build_seconds,
        ).where(Deployment.project_id == project.id, Deployment.created_at >= since)
        hits = select(RequestHit.ts, RequestHit.status, RequestHit.duration_ms, RequestHit.country).where(
            RequestHit.project_id == project.id, RequestHit.ts >= since
        )
        if environment:
            query = query.where(Deployment.environment == environment)
            hits = hits.where(RequestHit.environment == environment)
        runs = [stats.Run(*row) for row in await session.execute(query)]
        requests = [stats.Request(*row) for row in await session.execute(hits.limit(MAX_HITS))]
        envs = (
            await session.scalars(
                select(Environment.name).where(
                    Environment.project_id == project.id, Environment.state == "active"
                )
            )
        ).all()
    dates = stats.days_back(utcnow().date(), days)
    traffic = stats.traffic(requests)
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
        traffic=traffic,
        health=stats.health_score(traffic, runs),
        deploys_chart=Markup(charts.bars("Deployments per day (failed in red)", stats.per_day(runs, dates))),
        build_chart=Markup(charts.lines("Build time per day", stats.timing_trend(runs, dates))),
        traffic_chart=Markup(
            charts.bars("Requests per day (5xx in red)", stats.requests_per_day(requests, dates))
        ),
    )


routes = [page("/projects/{name}/analytics", analytics, "analytics.view")]
