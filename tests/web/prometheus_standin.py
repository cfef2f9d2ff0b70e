"""A stand-in for a Prometheus server's HTTP API on a loopback port (Prometheus itself cannot run
here). It speaks the documented format of /api/v1/query and /api/v1/query_range exactly — the
`status`/`data`/`resultType` envelope, `[<unix seconds>, "<value as string>"]` samples, `errorType`
and `error` with 400/422/503 — and answers each PromQL text with the series a test gave it (no
PromQL is evaluated: the tests pin the exact query strings instead)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Labels = dict[str, str]
MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (Go's strconv.FormatFloat(v, 'f', -1, 64))."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) else repr(value)


def format_time(ts: float) -> float | int:
    """A sample time as Prometheus writes it: unix seconds, milliseconds at most."""
    ts = round(ts, 3)
    return int(ts) if ts == int(ts) else ts


@dataclass
class Standin:
    """What the server answers, and what it was asked."""

    url: str = ""
    vectors: dict[str, list[tuple[Labels, float]]] = field(default_factory=dict)
    matrices: dict[str, list[tuple[Labels, Callable[[float], float | None]]]] = field(default_factory=dict)
    failures: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    asked: list[dict[str, str]] = field(default_factory=list)

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, object]]:
        query = params.get("query")
        if path not in ("/api/v1/query", "/api/v1/query_range"):
            return 404, {}
        if not query:
            return _error(
                400,
                "bad_data",
                'invalid parameter "query": unknown position: parse error: no expression found in input',
            )
        if query in self.failures:
            return _error(*self.failures[query])
        if path == "/api/v1/query":
            at = float(params["time"]) if "time" in params else time.time()
            result = [
                {"metric": m, "value": [format_time(at), format_value(v)]}
                for m, v in self.vectors.get(query, [])
            ]
            return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}
        parsed = {}
        for name, kind in (("start", "timestamp"), ("end", "timestamp"), ("step", "duration")):
            try:
                parsed[name] = float(params.get(name, ""))
            except ValueError:
                text = params.get(name, "")
                return _error(
                    400, "bad_data", f'invalid parameter "{name}": cannot parse "{text}" to a valid {kind}'
                )
        start, end, step = parsed["start"], parsed["end"], parsed["step"]
        if end < start:
            return _error(400, "bad_data", "end timestamp must not be before start time")
        if step <= 0:
            return _error(
                400,
                "bad_data",
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            )
        if (end - start) / step > MAX_POINTS:
            return _error(
                400,
                "bad_data",
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            )
        times = [start + k * step for k in range(int((end - start) // step) + 1)]
        result = []
        for labels, values in self.matrices.get(query, []):
            points = [[format_time(t), format_value(v)] for t in times if (v := values(t)) is not None]
            if points:  # a series with no point in the range is left out, as Prometheus does
                result.append({"metric": labels, "values": points})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, object]]:
    return status, {"status": "error", "errorType": kind, "error": message}


@contextmanager
def prometheus_standin() -> Iterator[Standin]:
    """The stand-in, listening on 127.0.0.1 until the block ends."""
    standin = Standin()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, params: dict[str, list[str]]) -> None:
            flat = {key: values[-1] for key, values in params.items()}
            standin.asked.append(
                {
                    **flat,
                    "path": urlsplit(self.path).path,
                    "authorization": self.headers.get("Authorization", ""),
                }
            )
            status, body = standin.answer(urlsplit(self.path).path, flat)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                self._serve({})  # Prometheus reads no form from other bodies: the query is missing
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            self._serve({**parse_qs(urlsplit(self.path).query), **parse_qs(body)})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
