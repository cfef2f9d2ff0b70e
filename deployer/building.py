"""The building half of a run: source → config → detect → install → build, or the build of an
earlier deployment reused; then, with `deploy.after: checks`, the fresh build parked until its
required checks pass (deployer.releasing takes it from there, now or when it is released)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import NamedTuple

from deployer.apps import config_for_app
from deployer.config import CONFIG_FILENAMES, RepoConfig, parse_config
from deployer.detect import detect
from deployer.events import PhaseStarted
from deployer.plan import Plan, make_plan, safe_root
from deployer.run import PipelineRun
from deployer.source import SourceError, copy_folder, extract_tarball, fetch_tarball
from deployer.state import phase_seconds
from deployer.targets.base import Artifact, TargetError
from store import check_gates, deployments
from store.models import utcnow

BUILD_TIME_PHASES = ("install", "build", "release")


class Built(NamedTuple):
    """What goes live: the plan, the build, and facts about it for the report."""

    plan: Plan
    artifact: Artifact
    facts: dict[str, str]


class Parked(Exception):
    """Built, and held until its required checks pass (`waiting` or `blocked`)."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


async def build(run: PipelineRun) -> Built:
    """Fetch the source, read its config, detect the stack and build it on the target."""
    await run.enter("source", "building")
    src = run.work / "src"
    await _fetch(run, src)
    await run.enter("config")
    config = config_for_app(await asyncio.to_thread(read_config, src), run.claim.project.app)
    await run.enter("detect")
    # checked before detection reads anything, so a root of ../.. never looks outside the source
    detection = await asyncio.to_thread(detect, src / safe_root(config.build.root), config.build.start)
    plan = make_plan(config, detection)
    await run.log(f"detected {plan.framework}: {plan.reason}")
    artifact = await run.target.build(run.site, src, plan, run.log, run.enter, run.build_env(plan))
    facts = {"framework": plan.framework, "reason": plan.reason, "artifact": artifact.ref}
    facts.update(artifact.facts)
    return Built(plan, artifact, facts)


async def _fetch(run: PipelineRun, src: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    await asyncio.to_thread(src.mkdir, parents=True)
    deployment = run.deployment
    where = deployment.source or ""
    if run.fetch is not None:
        await fetch_tarball(run.fetch, src)
    elif where.startswith("upload:"):
        await asyncio.to_thread(extract_tarball, Path(where.removeprefix("upload:")), src)
    elif where.startswith("dir:"):
        await asyncio.to_thread(
            copy_folder, Path(where.removeprefix("dir:")), src, commit=deployment.commit_sha
        )
    else:
        raise SourceError("this deployment names no source to fetch")
    sha = deployment.commit_sha
    await run.log(f"fetched source at {sha[:7]}" if sha else "fetched source")


def read_config(src: Path) -> RepoConfig:
    """The repository's autostack.yml (under any of its names); the defaults when it has none."""
    for name in CONFIG_FILENAMES:
        if (src / name).is_file():
            return parse_config((src / name).read_text(errors="replace"), filename=name)
    return RepoConfig()


async def reuse(run: PipelineRun) -> Built:
    """The build of the deployment this one redeploys (a rollback or a promotion); no rebuild."""
    source_id = run.deployment.source_deployment_id
    source = await deployments.deployment(run.sessions, source_id) if source_id else None
    if source is None or not source.artifact:
        raise TargetError(f"deployment {source_id} has no build to reuse; deploy its commit again instead")
    plan = Plan.from_snapshot(source.config)
    await run.log(f"reusing the build of deployment {source.id} ({source.framework}); no rebuild")
    facts = {
        "framework": source.framework or "",
        "reason": source.framework_reason or "",
        "artifact": source.artifact,
        "reused_from": str(source.id),
    }
    return Built(plan, Artifact(source.artifact), facts)


async def park(run: PipelineRun) -> None:
    """Hold the fresh build while its checks have not passed (`deploy.after: checks`)."""
    held = await check_gates.park_after_build(run.sessions, run.id)
    if held is None:
        return
    await deployments.start_phase(run.sessions, run.id, "checks", after_line=run.log.seq)
    await run.sink.emit(PhaseStarted(run.id, "checks", utcnow()))
    # the build phases are closed now, so the build time is final
    await deployments.update(run.sessions, run.id, build_seconds=await build_seconds(run))
    await run.log(f"built; {held[1]} (deploy.after: checks)")
    raise Parked(*held)


async def build_seconds(run: PipelineRun) -> float:
    """How long the build took, once its phases are closed."""
    return phase_seconds(await deployments.phases_of(run.sessions, run.id), *BUILD_TIME_PHASES)
