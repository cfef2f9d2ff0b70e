"""`autostack serve` on embedded defaults with short HTTP limits (session fixtures, a pytest
plugin of conftest.py), and raw-socket clients for it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from select import select as wait_for_io

import pytest
from sqlalchemy import create_engine, select

from store.db import sync_url
from store.models import Delivery
from tests.conftest import SECRET
from tests.processes import autostack_env, running
from tests.servers import free_ports

METRICS_TOKEN = "metrics-token-for-tests"
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 1.0
KEEPALIVE_TIMEOUT = 1.0
MAX_CONNECTIONS = 20


@dataclass
class Served:
    """A running `autostack serve`: where it listens and where its SQLite file is."""

    port: int
    data_dir: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def delivery_ids(self) -> list[str]:
        """The deliveries stored so far."""
        engine = create_engine(sync_url(f"sqlite:///{self.data_dir / 'autostack.db'}"))
        try:
            with engine.connect() as conn:
                return [row.delivery_id for row in conn.execute(select(Delivery.delivery_id))]
        finally:
            engine.dispose()


def _serve(tmp: Path, **values: str) -> Iterator[Served]:
    port, router = free_ports(2)
    env = autostack_env(
        PORT=str(port), ROUTER_PORT=str(router), AUTOSTACK_DATA_DIR=str(tmp / "data"), WEBHOOK_SECRET=SECRET
    )
    env.update(values)
    with running("serve", env=env, log=tmp / "serve.log", ready_url=f"http://127.0.0.1:{port}/readyz"):
        yield Served(port, tmp / "data")


@pytest.fixture(scope="session")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Short header, body and keep-alive limits; /metrics behind METRICS_TOKEN; plain http."""
    yield from _serve(
        tmp_path_factory.mktemp("guarded"),
        HTTP_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        HTTP_BODY_TIMEOUT=str(BODY_TIMEOUT),
        HTTP_KEEPALIVE_TIMEOUT=str(KEEPALIVE_TIMEOUT),
        METRICS_TOKEN=METRICS_TOKEN,
    )


@pytest.fixture(scope="session")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Few connections allowed, long header limit; no METRICS_TOKEN; public URL on https."""
    yield from _serve(
        tmp_path_factory.mktemp("capped"),
        HTTP_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        HTTP_HEADER_TIMEOUT="30",
        AUTOSTACK_URL="https://autostack.example",
    )


def connect(port: int) -> socket.socket:
    """A TCP connection to the server, nothing sent yet."""
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took;
    fails when the connection is still open after `within` seconds."""
    started = time.monotonic()
    received = b""
    sock.settimeout(0.1)
    while time.monotonic() - started < within:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    else:
        raise AssertionError(f"still open after {within}s; received {received[:200]!r}")
    return received, time.monotonic() - started


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def send_slowly(sock: socket.socket, data: bytes, interval: float) -> None:
    """Send `data` a byte at a time, `interval` seconds apart, until done or the server answers
    (sending on after its answer would reset the connection and lose that answer)."""
    for byte in data:
        readable, _, _ = wait_for_io([sock], [], [], interval)
        if readable:
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return
