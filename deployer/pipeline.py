"""Run one deployment: source → config → detect → install → build → start → health → switch.

`run_deployment` is what the worker calls for a deployment row; everything permanent (bad
config, failed build, unhealthy app) ends as a failed deployment with the reason, while the
environment's previous version keeps serving. The build (deployer.building) may park, waiting
for the commit's checks; `release_deployment` then takes the parked build live
(deployer.releasing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from deployer.app_env import AppEnv, EnvProvider, env_scope, no_env
from deployer.building import BUILD_TIME_PHASES, Parked, build, park, reuse
from deployer.config import ConfigError
from deployer.deploylog import DeploymentLogWriter
from deployer.detect import DetectError
from deployer.events import EventSink, Finished, Held
from deployer.releasing import go_live, own_build
from deployer.run import PipelineRun, Superseded
from deployer.source import SourceError, TarballWriter
from deployer.state import IN_PROGRESS, OUTCOMES, STOPPED
from deployer.stops import IN_PROCESS, StopSignals, notify_all, watch
from deployer.targets.base import Target, TargetError
from store import check_gates, deployment_runs, deployments
from store.db import Sessions
from store.deployment_runs import Claim
from store.errors import is_temporary

__all__ = [
    "BUILD_TIME_PHASES",
    "PERMANENT",
    "AppEnv",
    "EnvProvider",
    "env_scope",
    "no_env",
    "recover_interrupted",
    "release_deployment",
    "run_deployment",
]
log = logging.getLogger("autostack.deployer")
PERMANENT = (ConfigError, DetectError, SourceError, TargetError)


def _never() -> bool:
    return False


async def run_deployment(
    sessions: Sessions,
    deployment_id: int,
    sink: EventSink,
    target: Target,
    *,
    work_dir: Path,
    fetch: TarballWriter | None = None,
    env_for: EnvProvider = no_env,
    final_try: bool = True,
    stops: StopSignals = IN_PROCESS,
    left_to_lease: Callable[[], bool] = _never,
) -> str | None:
    """Run a queued deployment to a terminal state; return that state (None if not claimed).

    `fetch` writes the commit's tarball (GitHub deployments); without it the deployment's
    `source` column is used (CLI uploads and local folders). A temporary error (store.errors)
    puts it back in the queue and returns "queued", unless this is the `final_try`. The runs
    of the deployments it supersedes, and its own run, are stopped through `stops`. A run
    cancelled while `left_to_lease()` is true (its worker's drain ran out of time) is not
    failed: the deployment keeps its state and lease, and a live replica takes it over once
    the lease expires.
    """
    claim = await deployment_runs.claim(sessions, deployment_id)
    if claim is None:
        return None
    await notify_all(stops, claim.stopped)
    for replaced in claim.superseded:
        await sink.emit(
            Finished(replaced, "cancelled", "superseded", f"superseded by deployment {deployment_id}")
        )
    run = PipelineRun(sessions, claim, sink, target, work_dir, fetch, env_for)
    if claim.deployment.phases:  # it ran before and was queued again: its log goes on after those lines
        run.log = await DeploymentLogWriter.resume(sessions, deployment_id, sink)
    return await _drive(run, stops, final_try=final_try, left_to_lease=left_to_lease)


async def release_deployment(
    sessions: Sessions,
    deployment_id: int,
    sink: EventSink,
    target: Target,
    *,
    work_dir: Path,
    env_for: EnvProvider = no_env,
    stops: StopSignals = IN_PROCESS,
    left_to_lease: Callable[[], bool] = _never,
) -> str | None:
    """Release a deployment that waited for its checks, once they passed: its own build
    starts, is health-checked and takes the traffic. None when it is not to be released.
    `stops` and `left_to_lease` as for run_deployment."""
    released = await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS)
    if released is None:
        state = await deployments.state_of(sessions, deployment_id)
        if state in STOPPED:  # by a newer deployment, or a lock
            reason = await _superseded_reason(sessions, deployment_id)
            await sink.emit(Finished(deployment_id, "cancelled", state, reason))
        return None
    claim = Claim(released.deployment, released.project, released.environment)
    run = PipelineRun(sessions, claim, sink, target, work_dir, None, env_for, resumed=True)
    run.log = await DeploymentLogWriter.resume(sessions, deployment_id, sink)  # after the build's lines
    return await _drive(run, stops, left_to_lease=left_to_lease)


async def _steps(run: PipelineRun) -> tuple[str, str | None, dict[str, object]]:
    """Build (or reuse a build, or take the parked one), park it if its checks are pending, then
    take it live: the terminal state, its reason and the values to store."""
    values: dict[str, object] = {}
    await run.load_env()
    reused = bool(run.deployment.source_deployment_id) or run.resumed
    if run.resumed:
        plan, artifact, facts = await own_build(run)
    else:
        plan, artifact, facts = await (reuse(run) if reused else build(run))
    values.update(
        config=plan.snapshot(),
        framework=plan.framework,
        framework_reason=plan.reason,
        artifact=artifact.ref,
        cache_hit=artifact.cache_hit if run.resumed or not reused else None,
    )
    await deployments.update(run.sessions, run.id, **values)
    if not reused:
        await park(run)
    values["url"] = await go_live(run, plan, artifact, None if reused else facts)
    return "ready", None, {**values, "facts": facts}


async def _drive(
    run: PipelineRun,
    stops: StopSignals,
    *,
    final_try: bool = True,
    left_to_lease: Callable[[], bool] = _never,
) -> str:
    """Run a claimed deployment to a terminal state, or until it parks to wait for checks (or,
    after a temporary error before the `final_try`, until it is queued again)."""
    sessions, deployment_id = run.sessions, run.id
    extra = {"deployment_id": deployment_id}
    task = asyncio.create_task(_steps(run), name=f"deployment {deployment_id}")
    watcher = asyncio.create_task(watch(sessions, deployment_id, task, stops))
    values: dict[str, object] = {}
    state, reason = "failed", None
    try:
        state, reason, values = await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():  # the worker itself is stopping: stop the build too
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            watcher.cancel()  # no more renewals: the lease runs out for another replica
            if left_to_lease():
                await _leave_to_lease(run)
            else:
                await _end(run, "failed", "interrupted: the worker stopped during " + run.phase, {})
            raise
        state, reason = "superseded", await _superseded_reason(sessions, deployment_id)
    except Superseded:
        state, reason = "superseded", await _superseded_reason(sessions, deployment_id)
    except Parked as parked:
        await _park(run, parked)
        return parked.state
    except PERMANENT as exc:
        await run.log.flush()
        reason, line = run.failure(exc)
        state = "failed"
        if line is not None:
            await deployments.mark_error_line(sessions, deployment_id, run.phase, line)
        log.info("deployment %s failed: %s", deployment_id, reason, extra=extra)
    except Exception as exc:
        detail = run.log.masker.mask(f"{type(exc).__name__}: {exc}")
        if is_temporary(exc):
            reason = f"{run.phase} failed: {detail}"
            if not final_try:
                watcher.cancel()
                return await _requeue(run, reason)
            state, reason = "failed", f"{reason} (a temporary error, still failing after retries)"
            log.warning("deployment %s failed: %s", deployment_id, reason, extra=extra)
        else:
            log.exception("deployment %s crashed in %s", deployment_id, run.phase, extra=extra)
            state, reason = "failed", f"internal error during {run.phase}: {detail}"
    finally:
        watcher.cancel()
    return await _end(run, state, reason, values)


async def _stop_here(run: PipelineRun, line: str) -> None:
    """Stop this process's part of a run that another run takes up later: its release, a last
    log line, its work folder."""
    if run.release is not None:
        with contextlib.suppress(Exception):
            await run.release.stop()
    await run.log(line)
    await run.log.flush()
    await asyncio.to_thread(shutil.rmtree, run.work, True)


async def _requeue(run: PipelineRun, reason: str) -> str:
    """Back to the queue after a temporary error: the old version keeps serving meanwhile."""
    await _stop_here(run, f"{reason}; this is a temporary error, so the deployment starts over shortly")
    requeued = await deployment_runs.requeue(run.sessions, run.id, f"retrying: {reason}")
    log.warning("deployment %s queued again: %s", run.id, reason, extra={"deployment_id": run.id})
    return "queued" if requeued else (await deployments.state_of(run.sessions, run.id) or "failed")


async def _leave_to_lease(run: PipelineRun) -> None:
    """A run cut off by its worker's stop: the stored deployment (state, lease) is left for the
    replica that takes it over."""
    await _stop_here(
        run,
        f"the worker stopped during {run.phase} before this deployment finished; once its lease"
        " expires, a running worker takes it over",
    )
    log.warning(
        "deployment %s cut off in %s: left to its lease", run.id, run.phase, extra={"deployment_id": run.id}
    )


async def _park(run: PipelineRun, parked: Parked) -> None:
    await run.log.flush()
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    await run.sink.emit(Held(run.id, parked.state, parked.reason))
    log.info("deployment %s %s: %s", run.id, parked.state, parked.reason, extra={"deployment_id": run.id})


async def _superseded_reason(sessions: Sessions, deployment_id: int) -> str:
    row = await deployments.deployment(sessions, deployment_id)
    return row.reason if row is not None and row.reason else "superseded by a newer deployment"


async def _end(run: PipelineRun, state: str, reason: str | None, values: dict[str, object]) -> str:
    """Finish the run as `state` unless it was stopped meanwhile; return the state stored."""
    if run.release is not None:
        with contextlib.suppress(Exception):
            await run.release.stop()
    await run.log.flush()
    stored = values.pop("facts", None)
    facts = {k: str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}
    row = await deployment_runs.finish(run.sessions, run.id, state, reason=reason, **values)
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    await run.sink.emit(
        Finished(run.id, OUTCOMES.get(row.state, "failure"), row.state, row.reason, row.url, facts)
    )
    log.info("deployment %s %s", run.id, row.state, extra={"deployment_id": run.id, "state": row.state})
    return row.state


async def recover_interrupted(sessions: Sessions, sink: EventSink | None = None) -> list[int]:
    """Fail deployments a stopped worker left in progress, their lease expired (a deploy worker
    calls this at start-up and every few seconds after)."""
    ids = await deployment_runs.fail_interrupted(sessions)
    for deployment_id in ids:
        log.warning("deployment %s was interrupted", deployment_id, extra={"deployment_id": deployment_id})
        if sink is not None:
            await sink.emit(
                Finished(
                    deployment_id,
                    "failure",
                    "failed",
                    "interrupted: AutoStack stopped during this deployment",
                )
            )
    return ids
