"""Analytics: the figures (table tests), the SVG charts, and the page over real rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.web import charts, stats
from bot.web.traffic import TrafficLog
from deployer.targets.local.router import Hit, Router

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def run(state, minutes=0, env="production", build=None, commit_hours=None, ready_after=None):
    created = T0 + timedelta(minutes=minutes)
    ready = created + timedelta(minutes=ready_after) if ready_after is not None else None
    commit = created - timedelta(hours=commit_hours) if commit_hours is not None else None
    return stats.DeploymentRun(
        env,
        state,
        created,
        started_at=created,
        ready_at=ready,
        finished_at=ready or created,
        commit_time=commit,
        build_seconds=build,
    )


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([5], 0.9, 5),
        ([1, 2, 3, 4], 0.5, 2),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
        ([3, 1, 2], 1.0, 3),
    ],
)
def test_percentile(values, fraction, expected):
    assert stats.percentile(values, fraction) == expected


@pytest.mark.parametrize(
    ("runs", "rate"),
    [
        ([], None),
        ([run("ready")], 1.0),
        ([run("ready"), run("failed")], 0.5),
        ([run("cancelled"), run("queued")], None),
    ],
)
def test_success_rate(runs, rate):
    assert stats.success_rate(runs) == rate


def test_dora_metrics():
    runs = [
        run("ready", 0, commit_hours=2, ready_after=6),
        run("failed", 60),
        run("ready", 90, commit_hours=1, ready_after=30),
        run("ready", 10, env="pr-1", ready_after=1),
    ]
    result = stats.dora(runs, days=2)
    assert result.frequency_per_day == 1.0
    assert result.change_failure_rate == pytest.approx(1 / 3)
    assert result.lead_time_hours == pytest.approx(1.5)  # median (nearest rank) of 2.1h and 1.5h
    assert result.restore_hours == pytest.approx(1.0)
    assert stats.dora([], 30) == stats.Dora(0.0, None, None, None)


def test_per_day_and_trend():
    dates = stats.days_back(date(2026, 1, 11), 3)
    runs = [run("ready", 0, build=10), run("failed", 5, build=30), run("ready", 60 * 24, build=20)]
    assert stats.per_day(runs, dates) == [
        (date(2026, 1, 9), 0, 0),
        (date(2026, 1, 10), 2, 1),
        (date(2026, 1, 11), 1, 0),
    ]
    assert stats.timing_trend(runs, dates) == [
        (date(2026, 1, 9), None, None),
        (date(2026, 1, 10), 10, 30),
        (date(2026, 1, 11), 20, 20),
    ]


@pytest.mark.parametrize(
    ("requests", "runs", "score"),
    [
        ([], [], 100),
        ([stats.Request(T0, 500, 10)] * 1 + [stats.Request(T0, 200, 10)] * 9, [], 60),
        ([stats.Request(T0, 200, 2000)], [], 70),
        ([], [run("failed"), run("ready", 1)], 85),
        ([stats.Request(T0, 503, 5000)], [run("failed")], 0),
        # 48 % 404s: no 5xx, yet not healthy
        ([stats.Request(T0, 404, 10)] * 12 + [stats.Request(T0, 200, 10)] * 13, [], 80),
        ([stats.Request(T0, 404, 10)] * 1 + [stats.Request(T0, 200, 10)] * 9, [], 95),
    ],
)
def test_health_score(requests, runs, score):
    assert stats.health_score(stats.traffic(requests), runs) == score


def test_traffic_figures():
    requests = [stats.Request(T0, 200, float(ms), "DE") for ms in range(1, 20)] + [
        stats.Request(T0, 502, 100.0, None)
    ]
    figures = stats.traffic(requests + [stats.Request(T0, 404, 1.0, stats.LOCAL_COUNTRY)] * 5)
    assert figures.requests == 25 and figures.error_rate == 0.04 and figures.p95_ms == 19
    assert figures.client_error_rate == 0.2
    assert figures.countries == [("DE", 19), ("local", 5), ("unknown", 1)]


def test_charts_are_svg_and_escape_titles():
    days = stats.days_back(date(2026, 1, 3), 3)
    svg = charts.bars("<b>x</b>", [(days[0], 2, 1), (days[1], 0, 0), (days[2], 4, 0)])
    assert (
        svg.startswith("<svg")
        and "&lt;b&gt;" in svg
        and svg.count('class="bar"') == 3
        and 'class="bad"' in svg
    )
    line = charts.lines("t", [(days[0], 1.0, 2.0), (days[1], None, None), (days[2], 3.0, 4.0)])
    assert line.count("<circle") == 4 and "<polyline" not in line
    assert "max 0" in charts.bars("empty", [])


async def test_analytics_page_with_traffic(as_role, seeded, web):
    router = Router()
    log = TrafficLog(web.sessions, router)
    for status in (200, 404, 503):
        router.on_request(Hit("shop.localhost", status, 12.0, "127.0.0.1"))
    assert await log.flush() == 3
    page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert '<div class="tile" id="rate-5xx"><b>33%</b><span>5xx rate' in page.text
    assert '<div class="tile" id="rate-4xx"><b>33%</b><span>4xx rate' in page.text
    assert "100%" in page.text  # success rate of the seeded deployments
    assert "local 3" in page.text and "unknown" not in page.text  # loopback is local
    only_pr = await as_role("viewer").get("/projects/shop/analytics?environment=pr-1")
    assert only_pr.status_code == 200


async def test_traffic_countries_from_the_offline_geoip_data(as_role, seeded, web):
    router = Router()
    log = TrafficLog(web.sessions, router)
    clients = ("8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "1.0.16.1", "81.2.69.142", "10.0.0.7", None)
    for client in (*clients, "::1", "127.8.0.1"):
        router.on_request(Hit("shop.localhost", 200, 5.0, client))
    assert await log.flush() == 9
    page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    tile = page.text.split('<div class="tile"><b>')[-1].split("</b><span>countries")[0]
    assert tile == "US 3, unknown 2, local 2, JP 1, GB 1"
