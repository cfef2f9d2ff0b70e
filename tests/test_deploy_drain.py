"""`autostack serve` stopped during a deployment: its deploy worker takes no new job, lets the
running build finish, then exits; one still running at the drain's deadline is not failed but
left to its lease, and a worker started later takes it over once the lease has expired."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from store.db import sync_url
from store.leases import LEASE
from store.models import ApiToken, Deployment, Team, utcnow
from tests.conftest import SECRET
from tests.processes import AUTOSTACK, ROOT, autostack_env
from tests.servers import free_ports

pytestmark = pytest.mark.slow


@dataclass
class Serve:
    """One `autostack serve` process on embedded defaults, and where it keeps its data."""

    proc: subprocess.Popen[bytes]
    base: str
    data: Path
    log: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data / 'autostack.db'}"


@contextmanager
def serve(tmp: Path, name: str, **env: str) -> Iterator[Serve]:
    """Start serve (the data folder is shared by every serve of a test) and wait until it answers."""
    port, router = free_ports(2)
    log = tmp / f"{name}.log"
    values = autostack_env(
        PORT=str(port), ROUTER_PORT=str(router), AUTOSTACK_DATA_DIR=str(tmp / "data"), WEBHOOK_SECRET=SECRET
    )
    values.update(env)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*AUTOSTACK, "serve"], env=values, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    served = Serve(proc, f"http://127.0.0.1:{port}", tmp / "data", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"serve exited {proc.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"serve never answered:\n{log.read_text()}"
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def deploy_building(tmp: Path, served: Serve, build_seconds: int) -> None:
    """`autostack deploy` of a static site whose build takes `build_seconds`; returns once the
    deployment is building. The CLI is stopped then: its log stream would hold serve's HTTP
    server open until the build ends, and the drain is the deploy worker's to do."""
    token = uuid.uuid4().hex
    engine = create_engine(sync_url(served.database_url))
    with Session(engine) as session, session.begin():
        team = Team(name="drain")
        session.add(team)
        session.flush()
        digest = hashlib.sha256(token.encode()).hexdigest()
        session.add(ApiToken(team_id=team.id, name="drain", token_hash=digest, role="owner"))
    engine.dispose()
    site = tmp / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>drained</h1>")
    (site / "autostack.yml").write_text(f'build:\n  build: "sleep {build_seconds}"\n')
    env = {**autostack_env(), "AUTOSTACK_TOKEN": token, "XDG_CONFIG_HOME": str(tmp / "config")}
    with (tmp / "deploy.log").open("wb") as out:
        cli = subprocess.Popen(
            [*AUTOSTACK, "deploy", str(site), "--server", served.base],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        wait_for(
            lambda: state(served) == "building",
            90,
            f"never building:\n{served.log.read_text()}\n{(tmp / 'deploy.log').read_text()}",
        )
    finally:
        cli.kill()
        cli.wait()


def deployment(served: Serve) -> Deployment | None:
    """The test's deployment as stored (None until the upload made it)."""
    engine = create_engine(sync_url(served.database_url))
    try:
        with Session(engine) as session:
            row = session.scalars(select(Deployment).order_by(Deployment.id)).first()
            if row is not None:
                session.expunge(row)
            return row
    finally:
        engine.dispose()


def state(served: Serve) -> str | None:
    row = deployment(served)
    return None if row is None else row.state


def wait_for(condition: object, seconds: float, why: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def stop(served: Serve, within: float) -> float:
    """SIGTERM serve; the seconds until it exited (it must exit 0 within `within`)."""
    started = time.monotonic()
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=within) == 0, served.log.read_text()
    return time.monotonic() - started


def test_a_running_build_finishes_before_serve_exits(tmp_path):
    with serve(tmp_path, "serve") as served:
        deploy_building(tmp_path, served, build_seconds=6)
        took = stop(served, within=90)
    row = deployment(served)
    assert row is not None
    assert (row.state, row.reason) == ("ready", None), served.log.read_text()
    assert took > 2  # it waited for the build rather than cutting it off
    assert "waiting up to 240 s for 1 running deploy jobs" in served.log.read_text()


def test_a_build_cut_off_by_the_deadline_is_left_to_its_lease_and_taken_over(tmp_path):
    with serve(tmp_path, "first", AUTOSTACK_DEPLOY_DRAIN_SECONDS="1") as served:
        deploy_building(tmp_path, served, build_seconds=300)
        took = stop(served, within=30)
    cut_off = deployment(served)
    assert cut_off is not None
    assert took < 20
    # not failed by the worker that stopped: still building, under the lease it held
    assert (cut_off.state, cut_off.finished_at) == ("building", None)
    assert cut_off.lease_expires_at is not None and cut_off.lease_expires_at <= utcnow() + LEASE
    assert "left to their leases" in served.log.read_text()
    with serve(tmp_path, "second") as again:
        wait_for(
            lambda: state(again) == "failed",
            LEASE.total_seconds() + 30,
            f"the lease was never taken over:\n{again.log.read_text()}",
        )
        stop(again, within=30)
    taken_over = deployment(again)
    assert taken_over is not None
    assert taken_over.reason is not None and taken_over.reason.startswith("interrupted: ")
