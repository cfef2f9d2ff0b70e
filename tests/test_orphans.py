"""Apps and builds a killed `serve` left running are stopped by the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from deployer.targets.local.pids import PidRecords, start_time_of
from tests.conftest import SECRET
from tests.processes import ROOT, autostack_env, running
from tests.servers import free_ports

# a serve stand-in: starts an app the way the local target does, then is killed with -9
START_APP = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from deployer.targets.local.pids import PidRecords
    from deployer.targets.local.runner import Supervisor

    async def main():
        app = Supervisor("sleep 300", cwd=Path("."), env={"PATH": "/usr/bin:/bin"}, port=1,
                         name="demo/production#1", pids=PidRecords(Path(sys.argv[1]) / "pids"))
        await app.start()
        Path(sys.argv[2]).write_text(str(app.process.pid))
        await asyncio.sleep(600)

    asyncio.run(main())
    """
)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited already


def _orphaned_app(data: Path, tmp_path: Path) -> int:
    marker = tmp_path / "app.pid"
    parent = subprocess.Popen(
        [sys.executable, "-c", START_APP, str(data), str(marker)], env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    deadline = time.monotonic() + 20
    while not marker.exists():
        assert time.monotonic() < deadline, "the app never started"
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    pid = int(marker.read_text())
    assert _alive(pid), "the app should outlive its killed parent (its own session)"
    return pid


def test_the_next_serve_reaps_an_app_a_killed_serve_left_running(tmp_path: Path):
    data = tmp_path / "data"
    orphan = _orphaned_app(data, tmp_path)
    record = json.loads((data / "pids" / f"{orphan}.json").read_text())
    assert record["pgid"] == orphan and record["what"] == "app demo/production#1"
    port, router = free_ports(2)
    env = autostack_env(
        PORT=str(port), ROUTER_PORT=str(router), AUTOSTACK_DATA_DIR=str(data), WEBHOOK_SECRET=SECRET
    )
    try:
        with running(
            "serve", env=env, log=tmp_path / "serve.log", ready_url=f"http://127.0.0.1:{port}/readyz"
        ):
            # serve answers only after it reaped: the orphan is gone by its first 200
            assert not _alive(orphan)
            assert list((data / "pids").glob("*.json")) == []
        assert "stopping orphaned app demo/production#1" in (tmp_path / "serve.log").read_text()
    finally:
        if _alive(orphan):
            os.killpg(orphan, signal.SIGKILL)


def test_a_record_whose_pid_now_names_another_process_is_left_alone(tmp_path: Path):
    bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        records = PidRecords(tmp_path / "pids")
        records.add(bystander.pid, "app demo/production#2")
        path = tmp_path / "pids" / f"{bystander.pid}.json"
        recorded = json.loads(path.read_text())
        assert recorded["start_time"] == start_time_of(bystander.pid)
        # the recorded app died long ago and the kernel gave its pid to this process since
        path.write_text(json.dumps({**recorded, "start_time": recorded["start_time"] - 1000}))
        assert records.reap(grace=0.5) == []
        assert _alive(bystander.pid)
        assert list((tmp_path / "pids").glob("*.json")) == []
    finally:
        bystander.kill()
        bystander.wait()
