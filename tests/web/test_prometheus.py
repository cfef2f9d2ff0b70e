"""Traffic from ingress-nginx's metrics in Prometheus: the exact PromQL (tables), the mapping of
results into the page's figures, and the page against a stand-in speaking Prometheus' HTTP API."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from bot.settings import PrometheusSettings
from bot.web import promql, stats
from bot.web.prometheus import Prometheus, PrometheusError, result_of, shown
from store.models import utcnow
from tests.servers import free_port
from tests.web.prometheus_standin import prometheus_standin

SHOP = '{namespace="autostack-shop"}'
SHOP_PROD = '{namespace="autostack-shop",ingress="production"}'


@pytest.mark.parametrize(
    ("project", "environment", "label", "expected"),
    [
        ("shop", None, "namespace", SHOP),
        ("shop", "production", "namespace", SHOP_PROD),
        ("shop", "pr-7", "namespace", '{namespace="autostack-shop",ingress="pr-7"}'),
        (
            "shop",
            "branch-x",
            "exported_namespace",
            '{exported_namespace="autostack-shop",ingress="branch-x"}',
        ),
        ('a"b\\c', None, "namespace", '{namespace="autostack-a\\"b\\\\c"}'),
    ],
)
def test_selector(project, environment, label, expected):
    assert promql.selector(project, environment, label) == expected


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: promql.requests_by_status(SHOP, 30),
            'sum by (status) (increase(nginx_ingress_controller_requests{namespace="autostack-shop"}[30d]))',
        ),
        (
            lambda: promql.requests_by_status(SHOP_PROD, 7),
            "sum by (status) (increase(nginx_ingress_controller_requests"
            '{namespace="autostack-shop",ingress="production"}[7d]))',
        ),
        (
            lambda: promql.p95_seconds(SHOP_PROD, 90),
            "histogram_quantile(0.95, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket"
            '{namespace="autostack-shop",ingress="production"}[90d])))',
        ),
        (
            lambda: promql.daily_by_status(SHOP),
            'sum by (status) (increase(nginx_ingress_controller_requests{namespace="autostack-shop"}[1d]))',
        ),
    ],
)
def test_query_text(build, expected):
    assert build() == expected


def test_day_range_puts_one_point_at_the_end_of_each_date():
    span = promql.day_range([date(2026, 1, 9), date(2026, 1, 10), date(2026, 1, 11)])
    assert span.start == datetime(2026, 1, 10, tzinfo=UTC).timestamp()
    assert span.end == datetime(2026, 1, 12, tzinfo=UTC).timestamp()
    assert span.step == 86_400


def test_traffic_from_vectors():
    by_status = [
        {"metric": {"status": "200"}, "value": [1767225600, "940.5"]},
        {"metric": {"status": "404"}, "value": [1767225600, "10"]},
        {"metric": {"status": "502"}, "value": [1767225600, "49.5"]},
    ]
    p95 = [{"metric": {}, "value": [1767225600, "0.25"]}]
    assert promql.traffic(by_status, p95) == stats.Traffic(1000, 250.0, 0.0495, [], client_error_rate=0.01)


@pytest.mark.parametrize(
    ("by_status", "p95", "expected"),
    [
        ([], [], stats.Traffic(0, None, None, [])),
        # no requests in the window: histogram_quantile over zero increases is NaN
        (
            [{"metric": {"status": "200"}, "value": [1, "0"]}],
            [{"metric": {}, "value": [1, "NaN"]}],
            stats.Traffic(0, None, None, []),
        ),
        ([], [{"metric": {}, "value": [1, "+Inf"]}], stats.Traffic(0, None, None, [])),
    ],
)
def test_traffic_without_data(by_status, p95, expected):
    assert promql.traffic(by_status, p95) == expected


def test_per_day_from_a_matrix():
    dates = [date(2026, 1, 9), date(2026, 1, 10), date(2026, 1, 11)]
    end_of = {d: datetime(d.year, d.month, d.day + 1, tzinfo=UTC).timestamp() for d in dates}
    matrix = [
        {"metric": {"status": "200"}, "values": [[end_of[dates[0]], "10"], [end_of[dates[2]], "4.6"]]},
        {"metric": {"status": "503"}, "values": [[end_of[dates[2]], "2.2"]]},
    ]
    assert promql.per_day(matrix, dates) == [(dates[0], 10, 0), (dates[1], 0, 0), (dates[2], 7, 2)]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            b'{"status":"error","errorType":"bad_data","error":"1:5: parse error"}',
            "refused the query: bad_data: 1:5: parse error",
        ),
        (502, b"<html>Bad Gateway</html>", "answered HTTP 502 without Prometheus' JSON"),
        (401, b"Unauthorized", "answered HTTP 401 without Prometheus' JSON; check PROMETHEUS_TOKEN"),
        (
            200,
            b'{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}',
            "returned a scalar, expected a vector",
        ),
        (200, b"[]", "answered HTTP 200 with JSON that is not an API answer"),
    ],
)
def test_answers_that_are_not_results(status, body, message):
    with pytest.raises(PrometheusError, match="^Prometheus at X " + message.replace("(", r"\(")):
        result_of("Prometheus at X", status, body, "vector")


def test_credentials_are_not_shown():
    assert shown("https://u:secret@prom.example.com/p") == "https://prom.example.com/p"
    assert shown("http://prom:9090") == "http://prom:9090"


async def test_client_speaks_the_http_api_with_the_token():
    with prometheus_standin() as prom:
        prom.vectors["up"] = [({"job": "ingress"}, 1.0)]
        prom.matrices["up"] = [({"job": "ingress"}, lambda t: 2.0)]
        async with Prometheus(PrometheusSettings(prom.url, token="t0k")) as client:
            assert await client.query("up", 1767225600.5) == [
                {"metric": {"job": "ingress"}, "value": [1767225600.5, "1"]}
            ]
            span = promql.day_range([date(2026, 1, 1), date(2026, 1, 2)])
            assert await client.query_range("up", span) == [
                {"metric": {"job": "ingress"}, "values": [[int(span.start), "2"], [int(span.end), "2"]]}
            ]
            with pytest.raises(PrometheusError, match="returned a vector, expected a matrix"):
                await client._ask("/api/v1/query", {"query": "up"}, "matrix")
    assert {a["authorization"] for a in prom.asked} == {"Bearer t0k"}


def _shop_traffic(prom, days):
    dates = stats.days_back(utcnow().date(), days)
    prom.vectors[promql.requests_by_status(SHOP, days)] = [
        ({"status": "200"}, 190.4),
        ({"status": "503"}, 10.0),
    ]
    prom.vectors[promql.p95_seconds(SHOP, days)] = [({}, 0.4321)]
    today_end = promql.day_range(dates).end
    prom.matrices[promql.daily_by_status(SHOP)] = [
        ({"status": "200"}, lambda t: 150.0 if t == today_end else None),
        ({"status": "503"}, lambda t: 10.0 if t == today_end else None),
    ]


async def test_analytics_page_reads_traffic_from_prometheus(as_role, seeded, web):
    with prometheus_standin() as prom:
        _shop_traffic(prom, 7)
        web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(prom.url))
        page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    traffic = page.text.split('id="traffic">')[1]
    assert "<b>200</b><span>requests" in traffic and "432 ms" in traffic and "5%" in traffic
    assert "ingress-nginx metrics in Prometheus" in page.text
    assert "countries need the local router&#39;s log or GeoIP in the ingress" in page.text
    assert "<title>" + utcnow().date().isoformat() + ": 160 (10 bad)</title>" in page.text
    # a viewer sees the health score move with the ingress' 5xx rate (5% → 20 points) and latency
    assert '<div class="tile" id="health"><b>77</b>' in page.text
    assert {a["path"] for a in prom.asked} == {"/api/v1/query", "/api/v1/query_range"}


async def test_prometheus_down_says_traffic_is_unavailable(as_role, seeded, web):
    url = f"http://127.0.0.1:{free_port()}"
    web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(url))
    page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    assert f"traffic is unavailable: Prometheus at {url} is not reachable" in page.text
    assert "<svg" in page.text  # the deployment charts still render


async def test_prometheus_error_is_named_on_the_page(as_role, seeded, web):
    with prometheus_standin() as prom:
        prom.failures[promql.p95_seconds(SHOP_PROD, 30)] = (
            422,
            "execution",
            "query timed out in expression evaluation",
        )
        web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(prom.url))
        page = await as_role("viewer").get("/projects/shop/analytics?environment=production")
    assert page.status_code == 200
    assert (
        f"traffic is unavailable: Prometheus at {prom.url} refused the query: execution: "
        "query timed out in expression evaluation" in page.text
    )
