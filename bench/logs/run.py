"""How long a line a build prints takes to reach the CLI stream and the page's event stream.

Runs one real preview deployment on the local target whose build prints `--lines` lines at
`--rate` lines/s, each stamped with the time it was printed, while two clients follow it: the
deploy API's NDJSON stream (what `autostack logs --follow` and `autostack deploy` read) and the
deployment page's Server-Sent Events. The real reporter reports it to the GitHub stand-in.
Prints the delay p50/p95 of each stream and the GitHub calls by endpoint.
Run: .venv/bin/python bench/logs/run.py [--lines 1000] [--rate 20] [--port 52100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Mount, Route

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "github-calls"))

from run import keys  # bench/github-calls/run.py

from bot.deploy_service import DeployService
from bot.github.app import GitHubApp
from bot.reporter.reporter import Reporter
from bot.site import site_app
from bot.web.context import OAuthClient, WebState
from bot.web.deployments import _sse
from deployer.events import Queued
from deployer.pipeline import run_deployment
from deployer.targets.local.target import LocalTarget
from store.db import create_engine, sessionmaker
from store.encryption import KeyRing
from store.models import Base, Deployment
from tests.github.seed import add_deployment, seed_environment
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State
from tests.web.harness import settings_for

APP_ID = 1
P95_LIMIT_MS = 500
EMIT = """\
import sys, time
lines, rate = int(sys.argv[1]), float(sys.argv[2])
start = time.time()
for i in range(lines):
    time.sleep(max(0.0, start + i / rate - time.time()))
    print(f"step {i} printed-at {time.time():.6f}", flush=True)
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(fraction * len(ordered) + 0.999999) - 1)]


def _delays(arrivals: list[tuple[float, str]]) -> list[float]:
    return [(at - float(text.rsplit(" ", 1)[1])) * 1000 for at, text in arrivals if "printed-at" in text]


async def _follow_ndjson(client: httpx.AsyncClient, deployment_id: int) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    async with client.stream("GET", f"/api/v1/deployments/{deployment_id}/logs", params={"follow": "1"}) as r:
        async for raw in r.aiter_lines():
            if raw.strip() and (event := json.loads(raw))["type"] == "log":
                got.append((time.time(), event["text"]))
    return got


async def _follow_sse(client: httpx.AsyncClient, deployment_id: int) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    async with client.stream("GET", f"/events/{deployment_id}") as r:
        async for raw in r.aiter_lines():
            if raw.startswith("data: ") and (event := json.loads(raw[6:]))["type"] == "log":
                got.append((time.time(), event["text"]))
    return got


async def bench(github_url: str, private: str, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    database = f"sqlite:///{folder / 'bench.db'}"
    sync = create_sync_engine(database)
    Base.metadata.create_all(sync)
    sync.dispose()
    engine = create_engine(database)
    sessions = sessionmaker(engine)
    app_dir = folder / "app"
    app_dir.mkdir()
    (app_dir / "index.html").write_text("<h1>bench</h1>")
    (app_dir / "emit.py").write_text(EMIT)
    (app_dir / "autostack.yml").write_text(f"build:\n  build: python3 emit.py {args.lines} {args.rate}\n")
    seeded = await seed_environment(sessions)
    deployment_id = await add_deployment(sessions, seeded, "a" * 40)
    async with sessions.begin() as session:
        await session.execute(
            update(Deployment).where(Deployment.id == deployment_id).values(source=f"dir:{app_dir}")
        )
    reporter = Reporter(
        deployment_id,
        sessions=sessions,
        github=GitHubApp(APP_ID, private, base_url=github_url),
        base_url="https://autostack.example.com",
    )
    target = LocalTarget(folder / "data", router_port=args.port + 1)
    await target.start_router()
    service = DeployService(sessions, folder / "data", lambda _id: asyncio.sleep(0), target, reporter, "t")

    async def events(request: Request) -> StreamingResponse:
        # the page's route without its login: the same generator re-framing the same stream
        return StreamingResponse(
            _sse(service, int(request.path_params["id"]), 0), media_type="text/event-stream"
        )

    settings = settings_for(folder / "data")
    page = site_app(
        WebState(settings, sessions, KeyRing(settings.secret_keys), OAuthClient(None), deploy=service)
    )
    app = Starlette(routes=[Route("/events/{id:int}", events), Mount("/", page)])
    web = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=args.port, lifespan="off", ws="none", log_level="warning")
    )
    serving = asyncio.create_task(web.serve())
    while not web.started:  # noqa: ASYNC110 (uvicorn offers no started event)
        await asyncio.sleep(0.02)
    await reporter.emit(Queued(deployment_id))
    headers = {"authorization": "Bearer t"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{args.port}", headers=headers, timeout=None
    ) as client:
        started = time.monotonic()
        streams = asyncio.gather(_follow_ndjson(client, deployment_id), _follow_sse(client, deployment_id))
        state = await run_deployment(
            sessions, deployment_id, reporter, target, work_dir=folder / "data" / "work"
        )
        ndjson, sse = await streams
    web.should_exit = True
    await serving
    await target.close()
    await engine.dispose()
    return {
        "state": state,
        "seconds": time.monotonic() - started,
        "cli": _delays(ndjson),
        "page": _delays(sse),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=52100, help="API port; the router takes port+1")
    args = parser.parse_args()
    private, public = keys()
    state = State(APP_ID, public)
    with StandInServer(state) as standin, tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(bench(standin.url, private, args, Path(folder)))
    print(f"deployment {result['state']} in {result['seconds']:.1f} s; {args.lines} lines at {args.rate:g}/s")
    ok = result["state"] == "ready"
    for name in ("cli", "page"):
        delays: list[float] = result[name]  # type: ignore[assignment]
        if len(delays) != args.lines:
            print(f"{name}: {len(delays)} of {args.lines} lines arrived")
            ok = False
            continue
        p50, p95, worst = percentile(delays, 0.5), percentile(delays, 0.95), max(delays)
        print(
            f"{name:>4} stream: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms (p95 limit {P95_LIMIT_MS})"
        )
        ok = ok and p95 < P95_LIMIT_MS
    counts = state.endpoint_counts()
    for endpoint, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{count:4d}  {endpoint}")
    print(f"{sum(counts.values()):4d}  GitHub calls in total")
    return 0 if ok and not state.violations else 1


if __name__ == "__main__":
    sys.exit(main())
