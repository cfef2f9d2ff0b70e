"""Hold N idle and N slow-loris connections on `autostack serve` and time signed deliveries sent
meanwhile; then watch the server reap the hostile connections. See README.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = ROOT / "tests" / "fixtures" / "github-webhooks" / "push" / "with-new-branch.payload.json"
SECRET = "slow-clients-bench-secret"
LIMIT_S = 1.0


@dataclass
class Held:
    """The hostile connections of one round and when the server closed each."""

    opened_at: float = 0.0
    idle_closed: list[float] = field(default_factory=list)
    loris_closed: list[float] = field(default_factory=list)
    loris_answers: dict[str, int] = field(default_factory=dict)


def raise_open_files() -> None:
    """This process holds 2N sockets plus its own: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"open-file limit {soft} -> {hard}")


def start_serve(port: int, data: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOSTACK_", "HTTP_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HOST="127.0.0.1",
        PORT=str(port),
        ROUTER_PORT=str(port + 1),
        AUTOSTACK_DATA_DIR=str(data),
        WEBHOOK_SECRET=SECRET,
        LOG_LEVEL="warning",
        **extra,
    )
    log = (data.parent / "serve.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=log, stderr=log)


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"autostack serve exited {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("autostack serve never became ready")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def idle(port: int, held: Held) -> None:
    """Connect and send nothing; note when the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    with contextlib.suppress(ConnectionError):
        await reader.read()
    held.idle_closed.append(time.monotonic() - held.opened_at)
    writer.close()


async def slow_loris(port: int, held: Held) -> None:
    """Trickle request headers one byte a second, never finishing them."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        b"POST /api/github/webhooks HTTP/1.1\r\nHost: autostack\r\nX-GitHub-Event: push\r\n"
        + b"X-Pad: "
        + b"a" * 500
    )
    answer = asyncio.ensure_future(reader.read())
    for byte in head:
        done, _ = await asyncio.wait({answer}, timeout=1.0)
        if done:
            break
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            break
    with contextlib.suppress(ConnectionError):
        data = await answer
        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "closed"
        held.loris_answers[status] = held.loris_answers.get(status, 0) + 1
    held.loris_closed.append(time.monotonic() - held.opened_at)
    writer.close()


async def delivery(client: httpx.AsyncClient, base: str, body: bytes) -> float:
    """One signed push on a fresh connection, as GitHub sends it; seconds to the answer."""
    headers = {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": str(uuid.uuid4()),
        "x-hub-signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }
    started = time.monotonic()
    answer = await client.post(f"{base}/api/github/webhooks", content=body, headers=headers)
    took = time.monotonic() - started
    if answer.status_code != 202:
        raise SystemExit(f"delivery answered {answer.status_code}: {answer.text}")
    return took


async def open_all(port: int, n: int, held: Held) -> list[asyncio.Task[None]]:
    tasks: list[asyncio.Task[None]] = []
    held.opened_at = time.monotonic()
    for start in range(0, n, 250):  # in batches, inside the listen backlog
        batch = range(start, min(n, start + 250))
        tasks += [asyncio.create_task(idle(port, held)) for _ in batch]
        tasks += [asyncio.create_task(slow_loris(port, held)) for _ in batch]
        await asyncio.sleep(0.05)
    return tasks


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f} s"


async def one_round(
    client: httpx.AsyncClient, base: str, port: int, n: int, sends: int, body: bytes, reap_wait: float
) -> dict[str, str]:
    held = Held()
    tasks = await open_all(port, n, held)
    await asyncio.sleep(1.0)  # every connection established and the trickle running
    times = []
    for _ in range(sends):
        times.append(await delivery(client, base, body))
        await asyncio.sleep(0.1)
    sent_by = time.monotonic() - held.opened_at
    open_then = 2 * n - len(held.idle_closed) - len(held.loris_closed)
    _, pending = await asyncio.wait(tasks, timeout=reap_wait)
    for task in pending:
        task.cancel()
    return {
        "N": str(n),
        "held while sending": f"{open_then}/{2 * n}",
        "delivery p50": f"{statistics.median(times) * 1000:.1f} ms",
        "delivery max": f"{max(times) * 1000:.1f} ms",
        "under 1 s": "yes" if max(times) < LIMIT_S else "NO",
        "sent by": f"{sent_by:.1f} s",
        "idle closed": f"{len(held.idle_closed)}/{n}",
        "idle closed after min/p50/max": spread(held.idle_closed),
        "loris closed": f"{len(held.loris_closed)}/{n} {dict(sorted(held.loris_answers.items()))}",
        "loris closed after min/p50/max": spread(held.loris_closed),
    }


async def bench(args: argparse.Namespace, base: str, pid: int) -> None:
    body = PAYLOAD.read_bytes()
    rows = []
    # no keep-alive: each delivery connects anew, behind the hostile ones
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=fresh) as client:
        for n in args.n:
            await delivery(client, base, body)  # warm
            row = await one_round(client, base, args.port, n, args.sends, body, args.reap_wait)
            row["server RSS"] = f"{rss_mb(pid):.0f} MB"
            rows.append(row)
            print("  ".join(f"{k}: {v}" for k, v in row.items()), flush=True)
            await asyncio.sleep(1.0)
    print()
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(row[k] for k in keys) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--n", type=int, nargs="+", default=[100, 500, 1000], help="hostile connections of each kind"
    )
    parser.add_argument("--sends", type=int, default=20, help="signed deliveries per round")
    parser.add_argument("--port", type=int, default=44100)
    parser.add_argument(
        "--reap-wait", type=float, default=30.0, help="seconds to wait for the server to reap"
    )
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite (with --redis-url)")
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    raise_open_files()
    extra = {}
    if args.database_url:
        extra["DATABASE_URL"] = args.database_url
        extra["SECRET_KEY"] = "slow-clients-bench-key"
    if args.redis_url:
        extra["REDIS_URL"] = args.redis_url
    with tempfile.TemporaryDirectory(prefix="autostack-slow-clients-") as tmp:
        proc = start_serve(args.port, Path(tmp) / "data", extra)
        base = f"http://127.0.0.1:{args.port}"
        try:
            wait_ready(base, proc)
            print(f"autostack serve on {base}, {'PostgreSQL' if args.database_url else 'embedded defaults'}")
            asyncio.run(bench(args, base, proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
