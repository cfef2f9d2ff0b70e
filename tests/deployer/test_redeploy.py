"""Redeploys switch with zero failed requests; caches, supersede, rollback, promote, restore."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import httpx
import pytest

from deployer.operations import destroy_environment, promote, restore, rollback
from deployer.pipeline import recover_interrupted
from deployer.targets.local.router import hostname_for
from deployer.targets.local.target import LocalTarget
from store.models import Deployment

pytestmark = pytest.mark.slow


async def test_redeploy_under_load_fails_no_request_and_skips_install(deployer, sink, app_copy):
    folder = app_copy("flask")
    first = await deployer.deploy(folder)
    assert first.state == "ready", first.reason
    ok, failed, versions = 0, 0, set()
    stop = asyncio.Event()

    async def hammer() -> None:
        nonlocal ok, failed
        host = hostname_for("demo", "production")
        async with httpx.AsyncClient() as client:
            while not stop.is_set():
                try:
                    response = await client.get(
                        f"http://127.0.0.1:{deployer.target.router_port}/", headers={"host": host}
                    )
                    if response.status_code == 200:
                        ok += 1
                        versions.add(response.text.rsplit("version ", 1)[-1][:1])
                    else:
                        failed += 1
                except httpx.HTTPError:
                    failed += 1

    clients = [asyncio.create_task(hammer()) for _ in range(4)]
    (folder / "autostack.yml").write_text(
        "run:\n  healthcheck: {path: /healthz, timeout: 30}\nenv:\n  APP_VERSION: 2\n"
    )
    second = await deployer.deploy(folder)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*clients)

    assert second.state == "ready", second.reason
    assert failed == 0 and ok > 50
    assert versions == {"1", "2"}
    assert "install skipped" in sink.log(second.id)
    assert second.cache_hit is True


async def test_newer_deployment_supersedes_and_kills_older_build(deployer, sink, app_copy, tmp_path):
    slow = app_copy("static", "slow")
    pid_file = tmp_path / "build.pid"
    (slow / "autostack.yml").write_text(f"build:\n  build: echo $$ > {pid_file}; exec sleep 31\n")
    older_id = await deployer.queue(slow)
    older = asyncio.create_task(deployer.run(older_id))
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.05)
    started = time.monotonic()

    newer = await deployer.deploy(app_copy("static", "fast"))
    older_row = await asyncio.wait_for(older, 10)

    assert newer.state == "ready"
    assert older_row.state == "superseded"
    assert older_row.reason == f"superseded by deployment {newer.id}"
    assert sink.finished(older_id).outcome == "cancelled"
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


async def test_rollback_and_promote_reuse_builds(deployer, sink, app_copy):
    v1 = app_copy("static", "v1")
    v2 = app_copy("static", "v2")
    (v2 / "index.html").write_text("<h1>version two</h1>")
    first = await deployer.deploy(v1)
    await deployer.deploy(v2)
    assert "version two" in (await deployer.get()).text

    back = await deployer.run(await rollback(deployer.sessions, "demo", "production"))

    assert back.state == "ready" and back.source_deployment_id == first.id
    assert sink.phases(back.id) == ["start", "health", "switch"]
    assert "Hello from a static site" in (await deployer.get()).text

    preview = await deployer.deploy(v2, env="pr-7")
    assert "version two" in (await deployer.get(env="pr-7")).text
    promoted = await deployer.run(await promote(deployer.sessions, preview.id))
    assert promoted.state == "ready" and promoted.artifact == preview.artifact
    assert "version two" in (await deployer.get()).text

    await destroy_environment(deployer.sessions, deployer.target, sink, "demo", "pr-7")
    assert (await deployer.get(env="pr-7")).status_code == 404


async def test_restart_restores_apps_and_fails_interrupted_deployments(
    deployer, sessions, app_copy, tmp_path, cache_dir
):
    live = await deployer.deploy(app_copy("static"))
    stuck_id = await deployer.queue(app_copy("static", "stuck"))
    async with sessions.begin() as session:
        (await session.get(Deployment, stuck_id)).state = "building"
    await deployer.target.close()

    assert await recover_interrupted(sessions) == [stuck_id]
    stuck = await deployer.row(stuck_id)
    assert stuck.state == "failed" and "interrupted" in stuck.reason

    fresh = LocalTarget(tmp_path / "data", cache_dir=cache_dir, router_port=0)
    await fresh.start_router()
    deployer.target = fresh
    try:
        assert await restore(sessions, fresh) == [fresh.url_for("demo", "production")]
        assert "Hello from a static site" in (await deployer.get()).text
        assert live.state == "ready"
    finally:
        await fresh.close()


def _slow_starting_app(folder, marks) -> None:
    """An app that notes when it was started, then takes 2 s before it listens."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text("<h1>slow start</h1>")
    start = f"date +%s.%N >> {marks}; sleep 2; exec {sys.executable} -m http.server $PORT --bind 127.0.0.1"
    (folder / "autostack.yml").write_text(
        f'build:\n  install: "true"\n  start: "{start}"\nrun:\n  healthcheck: {{path: /, timeout: 30}}\n'
    )


async def test_restore_starts_environments_side_by_side(deployer, sessions, tmp_path, cache_dir):
    marks = tmp_path / "starts.txt"
    names = ["one", "two", "three"]
    for name in names:
        folder = tmp_path / "apps" / name
        _slow_starting_app(folder, marks)
        assert (await deployer.deploy(folder, project=name)).state == "ready"
    await deployer.target.close()
    marks.write_text("")

    fresh = LocalTarget(tmp_path / "data", cache_dir=cache_dir, router_port=0)
    await fresh.start_router()
    deployer.target = fresh
    try:
        restored = await restore(sessions, fresh)
        assert sorted(restored) == sorted(fresh.url_for(name, "production") for name in names)
        starts = [float(line) for line in marks.read_text().split()]
        assert len(starts) == 3
        # one after another, each would start only after the previous one's 2 s of sleep
        assert max(starts) - min(starts) < 1.5, starts
        for name in names:
            assert "slow start" in (await deployer.get(project=name)).text
    finally:
        await fresh.close()
