"""An upload or GitHub tarball that would escape its build folder fails the deployment, and
nothing lands in the data folder beside admin-token and secret-key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deployer.operations import queue_deployment
from deployer.pipeline import run_deployment
from store.models import Deployment
from tests.deployer.test_source import _chain, _tarball, snapshot

REFUSAL = "upload refused: member 'd/up' would be written through link 'd'"


@pytest.mark.parametrize("source", ["upload", "github"])
async def test_an_escaping_archive_fails_the_deployment(deployer, tmp_path, source):
    data = tmp_path / "data"  # the target's data folder; `serve` keeps work/ and uploads/ in it too
    (data / "uploads").mkdir(parents=True)
    (data / "admin-token").write_text("token")
    (data / "secret-key").write_text("key")
    # a static site that deploys fine, plus a chain: work/<id>/src/d/up/u2/u3 is the data folder
    site = [("index.html", "file", "<h1>hi</h1>"), *_chain(3, "planted")]
    archive = _tarball(data / "uploads" / "x.tar.gz", site)
    before = snapshot(data)

    async def github(dest: Path) -> None:
        shutil.copyfile(archive, dest)

    deployment_id = await queue_deployment(
        deployer.sessions, "demo", "production", trigger="cli", source=f"upload:{archive}"
    )
    state = await run_deployment(
        deployer.sessions,
        deployment_id,
        deployer.sink,
        deployer.target,
        work_dir=data / "work",
        fetch=github if source == "github" else None,
    )

    async with deployer.sessions() as session:
        row = await session.get(Deployment, deployment_id)
    label = "upload" if source == "upload" else "source tarball"
    expected = f"source failed: {REFUSAL.replace('upload', label, 1)}"
    assert state == "failed" and row is not None and row.state == "failed"
    assert row.reason is not None and row.reason.startswith(expected)
    # the user sees why where the deployment ends: its outcome carries the refusal
    finished = deployer.sink.finished(deployment_id)
    assert finished.state == "failed" and finished.reason is not None and finished.reason.startswith(expected)
    assert snapshot(data, skip=data / "work") == before
    assert not (data / "planted").exists()
    assert [p for p in (data / "work").rglob("*")] == []
