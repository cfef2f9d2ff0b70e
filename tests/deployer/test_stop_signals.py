"""A cancel reaches the process running the deployment over Redis pub/sub: a build on the local
target stops within a second of a cancel made by another process; with Redis unreachable it
still stops, at the run's slow poll of the database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.deploy_stops import RedisStopSignals
from deployer import stops as deployer_stops
from deployer.cancel import cancel_deployment
from deployer.pipeline import run_deployment
from deployer.stops import FALLBACK_POLL_SECONDS
from tests.processes import ROOT
from tests.servers import free_port

pytestmark = pytest.mark.slow

# another process, with its own database and Redis connections, cancels as the page would
CANCEL = """
import asyncio, sys, time
from bot.deploy_stops import RedisStopSignals
from deployer import stops as deployer_stops
from deployer.cancel import cancel_deployment
from store.db import create_engine, sessionmaker

class Sink:
    async def emit(self, event):
        pass

async def main(database_url, redis_url, deployment_id):
    engine = create_engine(database_url)
    stops = RedisStopSignals(redis_url)
    try:
        await cancel_deployment(sessionmaker(engine), Sink(), deployment_id, "carol", stops=stops)
        print(time.time(), flush=True)
    finally:
        await stops.close()
        await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def _start_slow_build(deployer, app_copy, tmp_path: Path, stops: RedisStopSignals):
    slow = app_copy("static", "slow")
    pid_file = tmp_path / "build.pid"
    (slow / "autostack.yml").write_text(f"build:\n  build: echo $$ > {pid_file}; exec sleep 31\n")
    deployment_id = await deployer.queue(slow)
    running = asyncio.create_task(
        run_deployment(
            deployer.sessions,
            deployment_id,
            deployer.sink,
            deployer.target,
            work_dir=deployer.work_dir,
            stops=stops,
        )
    )
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert not running.done(), deployer.sink.log(deployment_id)
        await asyncio.sleep(0.05)
    return deployment_id, running, int(pid_file.read_text())


async def test_a_cancel_from_another_process_stops_the_build_within_a_second(
    deployer, app_copy, tmp_path, redis_url_real, monkeypatch
):
    # the signal, not the poll, is what stops it
    monkeypatch.setattr(deployer_stops, "FALLBACK_POLL_SECONDS", 60.0)
    stops = RedisStopSignals(redis_url_real)
    try:
        deployment_id, running, pid = await _start_slow_build(deployer, app_copy, tmp_path, stops)
        canceller = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CANCEL,
            f"sqlite:///{tmp_path / 'autostack.db'}",
            redis_url_real,
            str(deployment_id),
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        await asyncio.wait_for(running, 30)
        stopped_at = time.time()
        out, _ = await canceller.communicate()
        assert canceller.returncode == 0
    finally:
        await stops.close()

    cancelled_at = float(out.split()[-1])
    assert stopped_at - cancelled_at < 1.0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    row = await deployer.row(deployment_id)
    assert (row.state, row.reason) == ("cancelled", "cancelled by carol")


async def test_with_redis_unreachable_the_build_still_stops_at_the_poll(deployer, app_copy, tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}"
    worker, page = RedisStopSignals(nowhere), RedisStopSignals(nowhere)
    try:
        deployment_id, running, pid = await _start_slow_build(deployer, app_copy, tmp_path, worker)
        await cancel_deployment(deployer.sessions, deployer.sink, deployment_id, "dave", stops=page)
        cancelled_at = time.monotonic()
        await asyncio.wait_for(running, FALLBACK_POLL_SECONDS + 10)
        waited = time.monotonic() - cancelled_at
    finally:
        await worker.close()
        await page.close()

    assert waited < FALLBACK_POLL_SECONDS + 3
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    row = await deployer.row(deployment_id)
    assert (row.state, row.reason) == ("cancelled", "cancelled by dave")
