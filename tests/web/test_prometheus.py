"""Traffic from ingress-nginx's metrics in Prometheus: the label matchers, the mapping of results
into the page's figures, and the page against a real Prometheus scraping metrics shaped like
ingress-nginx's (tests/web/prometheus_server.py): its counts, latency and rates."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from bot.settings import PrometheusSettings
from bot.web import promql, stats
from bot.web.prometheus import Prometheus, PrometheusError, result_of, shown
from store.models import utcnow
from tests.servers import free_port
from tests.web.prometheus_server import Prometheus as PrometheusServer
from tests.web.prometheus_server import behind_a_token, ingress_metrics, prometheus

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


@pytest.fixture(scope="module")
def ingress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus holding shop's traffic, scraped twice: as ingress-nginx's own labels
    (`namespace`), and as a ServiceMonitor without honorLabels leaves them (`exported_namespace`).
    production: 15 quick 200s, 3 slower ones, a 404 and a slow 503; pr-7: 5 quick 200s."""
    with ingress_metrics() as metrics:
        metrics.serve("autostack-shop", "production", "200", 0.02, count=15)
        metrics.serve("autostack-shop", "production", "200", 0.3, count=3)
        metrics.serve("autostack-shop", "production", "404", 0.02)
        metrics.serve("autostack-shop", "production", "503", 2.0)
        metrics.serve("autostack-shop", "pr-7", "200", 0.02, count=5)
        metrics.serve("autostack-other", "production", "500", 0.02, count=50)
        jobs = {"ingress-nginx": {}, "servicemonitor": {"namespace": "ingress-nginx"}}
        with prometheus(metrics, tmp_path_factory.mktemp("prometheus"), jobs) as server:
            # increase() extrapolates by up to one scrape interval: with 80 samples, under the
            # page's rounding of 25 requests
            server.wait_for_samples(80)
            yield server


async def test_client_speaks_the_http_api_with_the_token(ingress):
    with behind_a_token(ingress.url, "t0k") as proxy:
        async with Prometheus(PrometheusSettings(proxy.url, token="t0k")) as client:
            [up] = await client.query('up{job="ingress-nginx"}', time.time())
            assert up["metric"]["job"] == "ingress-nginx" and up["value"][1] == "1"
            span = promql.day_range([date(2026, 1, 1), date(2026, 1, 2)])
            assert await client.query_range("vector(2)", span) == [
                {"metric": {}, "values": [[int(span.start), "2"], [int(span.end), "2"]]}
            ]
            with pytest.raises(PrometheusError, match="returned a vector, expected a matrix"):
                await client._ask("/api/v1/query", {"query": "up"}, "matrix")
        async with Prometheus(PrometheusSettings(proxy.url)) as anonymous:
            with pytest.raises(
                PrometheusError, match="answered HTTP 401 without Prometheus' JSON; check PROMETHEUS_TOKEN"
            ):
                await anonymous.query("up", time.time())
    assert set(proxy.seen) == {"Bearer t0k", ""}


@pytest.mark.parametrize("label", ["namespace", "exported_namespace"])
async def test_analytics_page_reads_traffic_from_prometheus(ingress, as_role, seeded, web, label):
    web.settings = dataclasses.replace(
        web.settings, prometheus=PrometheusSettings(ingress.url, namespace_label=label)
    )
    page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    traffic = page.text.split('id="traffic">')[1].split("</div>\n</div>")[0]
    assert "<b>25</b><span>requests" in traffic and "<b>479 ms</b>" in traffic
    assert '<div class="tile" id="rate-5xx"><b>4%</b>' in traffic
    assert '<div class="tile" id="rate-4xx"><b>4%</b>' in traffic
    assert "ingress-nginx metrics in Prometheus" in page.text
    assert "countries need the local router&#39;s log or GeoIP in the ingress" in page.text
    assert "<title>" + utcnow().date().isoformat() + ": 25 (1 bad)</title>" in page.text


async def test_one_environments_traffic(ingress, as_role, seeded, web):
    web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(ingress.url))
    page = await as_role("viewer").get("/projects/shop/analytics?environment=production")
    traffic = page.text.split('id="traffic">')[1]
    assert "<b>20</b><span>requests" in traffic and "<b>500 ms</b>" in traffic
    assert '<div class="tile" id="rate-5xx"><b>5%</b>' in traffic
    assert "<title>" + utcnow().date().isoformat() + ": 20 (1 bad)</title>" in page.text


async def test_prometheus_down_says_traffic_is_unavailable(as_role, seeded, web):
    url = f"http://127.0.0.1:{free_port()}"
    web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(url))
    page = await as_role("viewer").get("/projects/shop/analytics?days=7")
    assert page.status_code == 200
    assert f"traffic is unavailable: Prometheus at {url} is not reachable" in page.text
    assert "<svg" in page.text  # the deployment charts still render


async def test_prometheus_error_is_named_on_the_page(as_role, seeded, web, tmp_path):
    with ingress_metrics() as metrics:
        metrics.serve("autostack-shop", "production", "200", 0.02)
        # a server that may load one sample per query: AutoStack's need more, and are refused
        with prometheus(metrics, tmp_path, flags=("--query.max-samples=1",)) as server:
            metrics.wait_for_scrapes(3)
            server_url = server.url
            web.settings = dataclasses.replace(web.settings, prometheus=PrometheusSettings(server_url))
            page = await as_role("viewer").get("/projects/shop/analytics?environment=production")
    assert page.status_code == 200
    assert (
        f"traffic is unavailable: Prometheus at {server_url} refused the query: execution: "
        "query processing would load too many samples into memory in query execution" in page.text
    )
    assert "<svg" in page.text
