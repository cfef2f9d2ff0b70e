"""A whole AutoStack on loopback for fault injection: a private PostgreSQL and Redis that can be
stopped and started on the same port, `autostack serve` and the delivery worker as processes
that can be killed with -9, a sender of signed bursts, and the figures a run ends with."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, select

from store.db import sync_url
from store.leases import TERMINAL
from store.migrate import upgrade
from store.models import Delivery
from tests.conftest import SECRET, payload_bytes, signed_headers
from tests.processes import AUTOSTACK, ROOT, autostack_env
from tests.servers import RedisServer, free_ports, postgres_bin, wait_for_postgres

BODY = payload_bytes("push/with-new-branch")
SENDERS = 8
PROCESSED = ("done", "ignored")


class PostgresServer:
    """A PostgreSQL cluster on a fixed loopback port that a test can stop and start again."""

    def __init__(self, base: Path, port: int) -> None:
        bindir = postgres_bin()
        assert bindir is not None, "PostgreSQL is not installed"
        self._bin, self._base, self.port = bindir, base, port
        self._data = base / "pg"
        self._proc: subprocess.Popen[bytes] | None = None
        self._data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
            shutil.chown(self._data, "postgres")
        initdb = [
            str(bindir / "initdb"),
            "-D",
            str(self._data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ]
        subprocess.run(
            [*_as_postgres(), *initdb],
            check=True,
            capture_output=True,
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self._base),
            "max_connections": "200",
            # a restart, not the disk, is the fault under test
            "fsync": "off",
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        self._proc = subprocess.Popen(
            [*_as_postgres(), str(self._bin / "postgres"), "-D", str(self._data), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_postgres(self.admin_url)
        return self

    def stop(self) -> None:
        """A "fast" shutdown: every client's connection is cut."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)
            self._proc.wait(timeout=30)
            self._proc = None

    def new_database(self) -> str:
        """A fresh database migrated to the newest schema; returns its URL."""
        name = f"chaos_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        return url


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root
    return (
        ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        if os.geteuid() == 0
        else []
    )


class Process:
    """A long-running process of the stack, started again with the same arguments after a kill."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, ready_url: str | None = None) -> None:
        self._argv, self._env, self._log, self._ready_url = argv, env, log, ready_url
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed_pids: list[int] = []

    def start(self) -> Process:
        with self._log.open("ab") as out:
            self.proc = subprocess.Popen(
                self._argv, env=self._env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        if self._ready_url is not None:
            deadline = time.monotonic() + 90
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self._argv} exited {self.proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self._ready_url, timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self._ready_url} never answered 200:\n{self.log_tail()}")
                time.sleep(0.05)
        return self

    def kill9(self) -> None:
        """SIGKILL: no handler runs, nothing is cleaned up."""
        assert self.proc is not None
        self.killed_pids.append(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, chars: int = 4000) -> str:
        return self._log.read_text(errors="replace")[-chars:]


class Burst:
    """Signed push deliveries sent by SENDERS threads, in the background; only those answered
    202 count as acknowledged (GitHub redelivers the rest)."""

    def __init__(self, base: str, count: int) -> None:
        self._url = f"{base}/api/github/webhooks"
        self._ids = [str(uuid.uuid4()) for _ in range(count)]
        self._next = 0
        self._lock = threading.Lock()
        self.acknowledged: dict[str, float] = {}  # delivery id -> unix time of its 202
        self.answers: Counter[str] = Counter()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def _take(self) -> str | None:
        with self._lock:
            if self._next == len(self._ids):
                return None
            self._next += 1
            return self._ids[self._next - 1]

    def _send(self) -> None:
        with httpx.Client(timeout=15) as client:
            while (delivery_id := self._take()) is not None:
                try:
                    answer = client.post(
                        self._url, content=BODY, headers=signed_headers(BODY, "push", delivery_id)
                    )
                    outcome = str(answer.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with self._lock:
                    self.answers[outcome] += 1
                    if outcome == "202":
                        self.acknowledged[delivery_id] = time.time()

    @property
    def sent(self) -> int:
        with self._lock:
            return sum(self.answers.values())

    def wait_sent(self, count: int, timeout: float = 120) -> None:
        """Block until `count` deliveries have been answered (or failed)."""
        deadline = time.monotonic() + timeout
        while self.sent < count:
            assert time.monotonic() < deadline, f"only {self.sent} of {count} sent"
            time.sleep(0.02)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


@dataclass
class Figures:
    """What a fault left behind, as bench/chaos prints it."""

    fault: str
    acknowledged: int
    stored: int
    processed: int
    lost: int
    handled_twice: int
    rerun_after_kill: int
    recovery_seconds: float
    extra: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        extra = "".join(f"  {key}={value}" for key, value in self.extra.items())
        return (
            f"{self.fault:<22} acknowledged={self.acknowledged} stored={self.stored}"
            f" processed={self.processed} lost={self.lost} handled_twice={self.handled_twice}"
            f" rerun_after_kill={self.rerun_after_kill}"
            f" recovery_to_all_processed={self.recovery_seconds:.1f}s{extra}"
        )


@dataclass
class Effect:
    """One run of the worker's push handler."""

    pid: int
    at: float


class Stack:
    """PostgreSQL, Redis, `autostack serve` and the delivery worker, in `tmp`."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        pg_port, redis_port, self.port, router = free_ports(4)
        # not under pytest's tmp folder: that one is private to root, and postgres runs as postgres
        self._pg_base = Path(tempfile.mkdtemp(prefix="autostack-chaos-pg-"))
        self.postgres = PostgresServer(self._pg_base, pg_port).start()
        self.redis = RedisServer(redis_port).start()
        self.database_url = self.postgres.new_database()
        self.effects = tmp / "effects"
        self.env = autostack_env(
            PORT=str(self.port),
            ROUTER_PORT=str(router),
            AUTOSTACK_DATA_DIR=str(tmp / "data"),
            WEBHOOK_SECRET=SECRET,
            SECRET_KEY="chaos-key",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
        )
        self.serve = Process([*AUTOSTACK, "serve"], self.env, tmp / "serve.log", f"{self.base}/readyz")
        worker_argv = [sys.executable, "-m", "tests.chaos.worker", self.database_url, self.redis.url]
        self.worker = Process([*worker_argv, str(self.effects)], self.env, tmp / "worker.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Stack:
        """Start serve and the worker; returns once one delivery went all the way through."""
        self.serve.start()
        self.worker.start()
        warm_up = str(uuid.uuid4())
        answer = httpx.post(
            f"{self.base}/api/github/webhooks", content=BODY, headers=signed_headers(BODY, "push", warm_up)
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + 120
        while warm_up not in self.effects_by_delivery():
            assert time.monotonic() < deadline, (
                f"the worker never handled a delivery:\n{self.worker.log_tail()}"
            )
            time.sleep(0.1)
        return self

    def close(self) -> None:
        self.worker.stop()
        self.serve.stop()
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self._pg_base, ignore_errors=True)

    def states(self, ids: list[str]) -> dict[str, str]:
        """The stored state of each of these deliveries (missing ones are absent)."""
        engine = create_engine(sync_url(self.database_url))
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(Delivery.delivery_id, Delivery.state)).all()
        finally:
            engine.dispose()
        wanted = set(ids)
        return {row.delivery_id: row.state for row in rows if row.delivery_id in wanted}

    def effects_by_delivery(self) -> dict[str, list[Effect]]:
        runs: dict[str, list[Effect]] = {}
        if self.effects.exists():
            for line in self.effects.read_text().splitlines():
                delivery_id, pid, at = line.split()
                runs.setdefault(delivery_id, []).append(Effect(int(pid), float(at)))
        return runs

    def wait_until_finished(self, ids: list[str], since: float, limit: float = 60) -> float:
        """Seconds from `since` (monotonic) until every delivery is in a final state; stops
        waiting `limit` seconds after `since` and returns the time waited."""
        while time.monotonic() - since < limit:
            states = self.states(ids)
            if len(states) == len(ids) and all(state in TERMINAL for state in states.values()):
                break
            time.sleep(0.25)
        return time.monotonic() - since

    def figures(self, fault: str, burst: Burst, recovery_seconds: float, **extra: str) -> Figures:
        ids = list(burst.acknowledged)
        states = self.states(ids)
        runs = self.effects_by_delivery()
        killed = set(self.worker.killed_pids)
        # a handler the kill cut off before its outcome was stored runs again: at-least-once
        # for the few jobs in flight, which the count below keeps apart from a real double run
        rerun = [d for d in ids if len(runs.get(d, [])) == 2 and runs[d][0].pid in killed]
        twice = [d for d in ids if len(runs.get(d, [])) > 1 and d not in rerun]
        return Figures(
            fault=fault,
            acknowledged=len(ids),
            stored=len(states),
            processed=sum(1 for d in ids if states.get(d) in PROCESSED and runs.get(d)),
            lost=sum(1 for d in ids if states.get(d) not in PROCESSED or not runs.get(d)),
            handled_twice=len(twice),
            rerun_after_kill=len(rerun),
            recovery_seconds=recovery_seconds,
            extra={key: value for key, value in extra.items()},
        )


@contextlib.contextmanager
def stack(tmp: Path) -> Iterator[Stack]:
    """A started Stack, closed afterwards."""
    started = Stack(tmp)
    try:
        yield started.start()
    finally:
        started.close()
