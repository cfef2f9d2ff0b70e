"""Cancelling a deployment: a running build is stopped (its process gone), the row says who
cancelled it, the environment keeps serving, and it is reported once; a queued one never runs."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from deployer.cancel import cancel_deployment
from deployer.events import Finished
from deployer.operations import OperationError
from store.models import Environment

pytestmark = pytest.mark.slow


async def test_cancel_stops_a_running_build_and_the_live_version_keeps_serving(
    deployer, sink, app_copy, tmp_path
):
    live = await deployer.deploy(app_copy("static", "live"))
    slow = app_copy("static", "slow")
    pid_file = tmp_path / "build.pid"
    (slow / "autostack.yml").write_text(f"build:\n  build: echo $$ > {pid_file}; exec sleep 31\n")
    deployment_id = await deployer.queue(slow)
    running = asyncio.create_task(deployer.run(deployment_id))
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.05)
    started = time.monotonic()

    reason = await cancel_deployment(deployer.sessions, sink, deployment_id, "alice")
    row = await asyncio.wait_for(running, 10)

    assert (row.state, row.reason) == ("cancelled", "cancelled by alice")
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert [e for e in sink.events if isinstance(e, Finished) and e.deployment_id == deployment_id] == [
        Finished(deployment_id, "cancelled", "cancelled", reason)
    ]
    async with deployer.sessions() as session:
        env = await session.get(Environment, row.environment_id)
    assert env.current_deployment_id == live.id and env.locked_by_deployment_id is None
    assert "Hello from a static site" in (await deployer.get()).text
    with pytest.raises(OperationError, match="is already cancelled; only a running one can be cancelled"):
        await cancel_deployment(deployer.sessions, sink, deployment_id, "alice")


async def test_a_cancelled_queued_deployment_is_never_built(deployer, sink, app_copy):
    deployment_id = await deployer.queue(app_copy("static"))
    await cancel_deployment(deployer.sessions, sink, deployment_id, "bob")

    row = await deployer.run(deployment_id)

    assert (row.state, row.reason, row.artifact) == ("cancelled", "cancelled by bob", None)
    assert sink.phases(deployment_id) == []
    assert [e.state for e in sink.events if isinstance(e, Finished)] == ["cancelled"]
