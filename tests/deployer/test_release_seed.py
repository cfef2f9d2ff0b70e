"""`release:` runs once per deployment before traffic switches; `previews.seed:` once per preview."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from deployer.operations import queue_deployment
from store.models import Environment

# the page names the version; the release step leaves its marker next to the app's files
APP = """\
build:
  build: mkdir -p public && echo "{version}" > public/index.html
  start: python3 -m http.server $PORT --bind 127.0.0.1 --directory public
{extra}"""


def _app(tmp_path: Path, name: str, version: str, extra: str = "", procfile: str | None = None) -> Path:
    folder = tmp_path / "apps" / name
    folder.mkdir(parents=True)
    (folder / "autostack.yml").write_text(APP.format(version=version, extra=extra))
    if procfile is not None:
        (folder / "Procfile").write_text(procfile)
    return folder


async def test_release_runs_before_the_switch_while_the_old_version_serves(deployer, tmp_path):
    marker = tmp_path / "released"
    old = await deployer.deploy(_app(tmp_path, "v1", "version one"))
    assert old.state == "ready", old.reason
    release = f'release: sleep 1.5 && echo "$AUTOSTACK_GIT_SHA" > {marker}\n'
    new_id = await queue_deployment(
        deployer.sessions,
        "demo",
        "production",
        trigger="cli",
        source=f"dir:{_app(tmp_path, 'v2', 'version two', release)}",
        commit_sha="feedbeef",
    )

    running = asyncio.create_task(deployer.run(new_id))
    while "release" not in deployer.sink.phases(new_id):
        await asyncio.sleep(0.05)
    served_during_release = (await deployer.get()).text
    new = await running

    assert served_during_release.strip() == "version one"
    assert new.state == "ready", new.reason
    assert marker.read_text().strip() == "feedbeef"
    assert (await deployer.get()).text.strip() == "version two"
    phases = deployer.sink.phases(new_id)
    assert phases.index("build") < phases.index("release") < phases.index("start")
    assert "release (from autostack.yml): $ sleep 1.5" in deployer.sink.log(new_id)


async def test_failed_release_fails_the_deployment_and_keeps_the_old_version(deployer, tmp_path):
    old = await deployer.deploy(_app(tmp_path, "v1", "version one"))
    assert old.state == "ready", old.reason
    failing = _app(
        tmp_path,
        "v2",
        "version two",
        procfile="release: echo migrating; echo 'Error: relation users does not exist' >&2; exit 3\n",
    )

    new = await deployer.deploy(failing)

    assert new.state == "failed"
    # the summary quotes the line that says why, as every phase's failure does
    assert new.reason == "release failed: Error: relation users does not exist"
    assert "migrating" in deployer.sink.log(new.id)
    assert "start" not in deployer.sink.phases(new.id)
    assert (await deployer.get()).text.strip() == "version one"


async def test_seed_runs_once_per_preview(deployer, tmp_path):
    log = tmp_path / "seeded.log"
    seed = f'previews:\n  seed: echo "seeded $AUTOSTACK_PR_NUMBER" >> {log}\n'

    first = await deployer.deploy(_app(tmp_path, "v1", "one", seed), env="pr-4")
    second = await deployer.deploy(_app(tmp_path, "v2", "two", seed), env="pr-4")
    production = await deployer.deploy(_app(tmp_path, "v3", "three", seed))

    assert (first.state, second.state, production.state) == ("ready", "ready", "ready")
    assert log.read_text().splitlines() == ["seeded 4"]
    assert "seed: $ echo" in deployer.sink.log(first.id)
    assert "seed" not in deployer.sink.log(second.id)
    async with deployer.sessions() as session:
        env = await session.scalar(select(Environment).where(Environment.name == "pr-4"))
        assert env.seeded_at is not None


async def test_failed_seed_fails_the_deployment_and_runs_again_next_time(deployer, tmp_path):
    flag = tmp_path / "seed-may-pass"
    seed = f"previews:\n  seed: 'test -f {flag} || (echo \"fatal: no demo data\" && exit 1)'\n"

    failed = await deployer.deploy(_app(tmp_path, "v1", "one", seed), env="pr-5")
    flag.touch()
    passed = await deployer.deploy(_app(tmp_path, "v2", "two", seed), env="pr-5")

    assert failed.state == "failed" and failed.reason.startswith("seed failed: fatal: no demo data")
    assert passed.state == "ready", passed.reason
    assert (await deployer.get(env="pr-5")).text.strip() == "two"
