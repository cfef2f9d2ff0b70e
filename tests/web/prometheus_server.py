"""A real Prometheus (Debian's `prometheus`) scraping a metrics endpoint shaped like
ingress-nginx's, for the analytics page's traffic: no query text is pinned here, Prometheus
evaluates whatever AutoStack asks.

The endpoint serves the counters at zero until a scrape job has scraped them once, then with the
requests a test recorded, so `increase()` sees them all; Prometheus scrapes every 100 ms, and a
test waits for enough samples that its extrapolation stays inside the page's rounding.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_for_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SCRAPE = "100ms"
# ingress-nginx's request_duration_seconds buckets (the client library's defaults)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTROLLER = {
    "controller_class": "k8s.io/ingress-nginx",
    "controller_namespace": "ingress-nginx",
    "controller_pod": "ingress-nginx-controller-7d9f8b6c5d-x2x4q",
}


def require_prometheus() -> None:
    """Skip, saying why, where Prometheus is not installed; in CI (.ci/run installs it) fail."""
    if Path(PROMETHEUS).exists():
        return
    message = f"the traffic tests need Prometheus at {PROMETHEUS}: apt-get install -y prometheus"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class IngressMetrics:
    """ingress-nginx's /metrics: requests per (namespace, ingress, status) and their durations."""

    url: str = ""
    # (namespace, ingress, status) -> durations of the requests recorded
    requests: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    # scrapes so far per path: each scrape job has a path of its own, and sees zeros first
    scraped: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, namespace: str, ingress: str, status: str, seconds: float, count: int = 1) -> None:
        """`count` requests to the Ingress `ingress` of `namespace`, each taking `seconds`."""
        with self.lock:
            self.requests.setdefault((namespace, ingress, status), []).extend([seconds] * count)

    def wait_for_scrapes(self, count: int, within: float = 30) -> None:
        """Until every scrape job took the metrics `count` times."""
        deadline = time.monotonic() + within
        while min(self.scraped.values(), default=0) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"metrics scraped {self.scraped} after {within}s; wanted {count} each")
            time.sleep(0.05)

    def text(self, counted: bool) -> str:
        """The exposition, with every series at zero unless `counted`."""
        lines = [
            "# HELP nginx_ingress_controller_requests The total number of client requests",
            "# TYPE nginx_ingress_controller_requests counter",
        ]
        histogram = [
            "# HELP nginx_ingress_controller_request_duration_seconds The request processing time in seconds",
            "# TYPE nginx_ingress_controller_request_duration_seconds histogram",
        ]
        with self.lock:
            series = {key: list(durations) if counted else [] for key, durations in self.requests.items()}
        for (namespace, ingress, status), durations in sorted(series.items()):
            labels = _labels(namespace, ingress, status)
            lines.append(f"nginx_ingress_controller_requests{{{labels}}} {len(durations)}")
            name = "nginx_ingress_controller_request_duration_seconds"
            for bound in BUCKETS:
                within = sum(1 for d in durations if d <= bound)
                histogram.append(f'{name}_bucket{{{labels},le="{bound}"}} {within}')
            histogram.append(f'{name}_bucket{{{labels},le="+Inf"}} {len(durations)}')
            histogram.append(f"{name}_sum{{{labels}}} {sum(durations)}")
            histogram.append(f"{name}_count{{{labels}}} {len(durations)}")
        return "\n".join(lines + histogram) + "\n"


def _labels(namespace: str, ingress: str, status: str) -> str:
    host = f"{ingress}.{namespace}.apps.example.com"
    labels = {
        "canary": "",
        **CONTROLLER,
        "host": host,
        "ingress": ingress,
        "method": "GET",
        "namespace": namespace,
        "path": "/",
        "service": "web",
        "status": status,
    }
    return ",".join(f'{key}="{value}"' for key, value in labels.items())


@contextlib.contextmanager
def ingress_metrics() -> Iterator[IngressMetrics]:
    """The metrics endpoint on a loopback port until the block ends."""
    metrics = IngressMetrics()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with metrics.lock:
                metrics.scraped[self.path] = metrics.scraped.get(self.path, 0) + 1
                counted = metrics.scraped[self.path] > 1
            body = metrics.text(counted).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as url:
        metrics.url = url
        yield metrics


@contextlib.contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Prometheus:
    """A running Prometheus."""

    url: str

    def samples(self, query: str) -> float:
        """An instant query's single value (0 when it has none)."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=5).json()
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    def wait_for_samples(self, count: int, within: float = 30) -> None:
        """Until every scraped series holds at least `count` samples (one at zero first)."""
        deadline = time.monotonic() + within
        query = "min(count_over_time(nginx_ingress_controller_requests[1h]))"
        while self.samples(query) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Prometheus at {self.url} holds fewer than {count} samples after {within}s"
                )
            time.sleep(0.1)


@contextlib.contextmanager
def prometheus(
    metrics: IngressMetrics,
    tmp_path: Path,
    jobs: dict[str, dict[str, str]] | None = None,
    flags: tuple[str, ...] = (),
) -> Iterator[Prometheus]:
    """Prometheus scraping `metrics` every 100 ms, its data under `tmp_path`, until the block ends.
    `jobs`: scrape job names and the labels of their target (a `namespace` there makes Prometheus
    rename the metric's own to `exported_namespace`, as a ServiceMonitor without honorLabels does)."""
    require_prometheus()
    port = free_port()
    target = metrics.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    text = f"global:\n  scrape_interval: {SCRAPE}\n  scrape_timeout: {SCRAPE}\nscrape_configs:\n"
    for job, labels in (jobs or {"ingress-nginx": {}}).items():
        text += f"  - job_name: {job}\n    metrics_path: /metrics/{job}\n"
        text += f"    static_configs:\n      - targets: [{target!r}]\n"
        if labels:
            text += "        labels:\n" + "".join(f"          {k}: {v!r}\n" for k, v in labels.items())
    config.write_text(text)
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *flags,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port)
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass
class TokenProxy:
    """What a managed Prometheus puts in front of its API: a bearer token, or 401."""

    url: str
    seen: list[str] = field(default_factory=list)


@contextlib.contextmanager
def behind_a_token(upstream: str, token: str) -> Iterator[TokenProxy]:
    """A proxy to `upstream` that forwards only requests carrying `Bearer <token>`."""
    proxy = TokenProxy("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            given = self.headers.get("Authorization", "")
            proxy.seen.append(given)
            if given != f"Bearer {token}":
                self._answer(401, b"Unauthorized", "text/plain")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = httpx.post(
                upstream + self.path, content=body, headers={"content-type": self.headers["Content-Type"]}
            )
            self._answer(answer.status_code, answer.content, answer.headers["content-type"])

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as url:
        proxy.url = url
        yield proxy
