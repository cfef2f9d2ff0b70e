"""Run one deployment: source → config → detect → install → build → start → health → switch.

`run_deployment` is what the worker calls for a deployment row; everything permanent (bad
config, failed build, unhealthy app) ends as a failed deployment with the reason, while the
environment's previous version keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from deployer import records
from deployer.apps import config_for_app
from deployer.builtins import builtin_variables, facts_of, with_builtins
from deployer.config import CONFIG_FILENAMES, ConfigError, RepoConfig, parse_config
from deployer.deploylog import DeploymentLogWriter
from deployer.detect import DetectError, detect
from deployer.error_lines import first_error, strip_server_paths
from deployer.events import EventSink, Finished, Held, PhaseStarted
from deployer.plan import Plan, make_plan, safe_root
from deployer.source import SourceError, TarballWriter, copy_folder, extract_tarball, fetch_tarball
from deployer.state import IN_PROGRESS, OUTCOMES, phase_seconds
from deployer.targets.base import Artifact, BuildEnv, KnownCause, Release, Site, Target, TargetError
from store import check_gates, leases
from store.errors import is_temporary
from store.models import Deployment, Environment, Project, utcnow

log = logging.getLogger("autostack.deployer")
PERMANENT = (ConfigError, DetectError, SourceError, TargetError)
CANCEL_POLL_SECONDS = 0.25
BUILD_TIME_PHASES = ("install", "build", "release")


@dataclass(frozen=True, slots=True)
class AppEnv:
    """A project's environment variables for one environment, and which values are secret."""

    values: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()  # the names in `values` whose values are secret


EnvProvider = Callable[[Project, Environment], Awaitable[AppEnv]]


def _never() -> bool:
    return False


async def no_env(_project: Project, _environment: Environment) -> AppEnv:
    """The env provider when none is configured: no project variables."""
    return AppEnv()


def env_scope(environment: Environment) -> tuple[str, str]:
    """The EnvVar scopes that apply: ("production"|"preview"|"branch", "all")."""
    return (environment.kind if environment.kind in ("production", "preview", "branch") else "preview", "all")


class _Superseded(Exception):
    """A newer deployment took over this environment while this one ran."""


class _Parked(Exception):
    """Built, and held until its required checks pass (`waiting` or `blocked`)."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


class _Run:
    def __init__(
        self,
        sessions: records.Sessions,
        claim: records.Claim,
        sink: EventSink,
        target: Target,
        work_dir: Path,
        fetch: TarballWriter | None,
        env_for: EnvProvider,
        *,
        resumed: bool = False,
    ) -> None:
        self.sessions, self.claim, self.sink, self.target = sessions, claim, sink, target
        self.deployment: Deployment = claim.deployment
        self.id = self.deployment.id
        self.work = work_dir / str(self.id)
        self.fetch, self.env_for = fetch, env_for
        self.resumed = resumed  # released after waiting for checks: its own build goes live
        self.site = Site(
            claim.project.name, claim.environment.name, self.id, untrusted=claim.environment.untrusted
        )
        self.release: Release | None = None
        self.app_env = AppEnv()
        self.log = DeploymentLogWriter(sessions, self.id, sink)
        self.phase = ""
        self.phase_starts: dict[str, int] = {}  # the last log line before each phase began
        self.server_roots = (str(self.work), str(work_dir.parent))

    async def enter(self, phase: str, state: str | None = None) -> None:
        if await records.state_of(self.sessions, self.id) not in ("queued", "building", "deploying"):
            raise _Superseded
        self.phase = phase
        # every line of the previous phase is stored before this phase's header is
        await self.log.flush()
        self.phase_starts[phase] = self.log.seq
        await records.start_phase(self.sessions, self.id, phase, state, after_line=self.log.seq)
        await self.sink.emit(PhaseStarted(self.id, phase, utcnow()))

    async def build(self) -> tuple[Plan, Artifact, dict[str, str]]:
        await self.enter("source", "building")
        src = self.work / "src"
        await self._fetch(src)
        await self.enter("config")
        config = config_for_app(await asyncio.to_thread(_read_config, src), self.claim.project.app)
        await self.enter("detect")
        # checked before detection reads anything, so a root of ../.. never looks outside the source
        detection = await asyncio.to_thread(detect, src / safe_root(config.build.root), config.build.start)
        plan = make_plan(config, detection)
        await self.log(f"detected {plan.framework}: {plan.reason}")
        artifact = await self.target.build(self.site, src, plan, self.log, self.enter, self.build_env(plan))
        facts = {"framework": plan.framework, "reason": plan.reason, "artifact": artifact.ref}
        facts.update(artifact.facts)
        return plan, artifact, facts

    async def _fetch(self, src: Path) -> None:
        await asyncio.to_thread(shutil.rmtree, self.work, True)
        await asyncio.to_thread(src.mkdir, parents=True)
        where = self.deployment.source or ""
        if self.fetch is not None:
            await fetch_tarball(self.fetch, src)
        elif where.startswith("upload:"):
            await asyncio.to_thread(extract_tarball, Path(where.removeprefix("upload:")), src)
        elif where.startswith("dir:"):
            await asyncio.to_thread(
                copy_folder, Path(where.removeprefix("dir:")), src, commit=self.deployment.commit_sha
            )
        else:
            raise SourceError("this deployment names no source to fetch")
        sha = self.deployment.commit_sha
        await self.log(f"fetched source at {sha[:7]}" if sha else "fetched source")

    async def reuse(self) -> tuple[Plan, Artifact, dict[str, str]]:
        async with self.sessions() as session:
            source = await session.get(Deployment, self.deployment.source_deployment_id)
        if source is None or not source.artifact:
            raise TargetError(
                f"deployment {self.deployment.source_deployment_id} has no build "
                "to reuse; deploy its commit again instead"
            )
        plan = Plan.from_snapshot(source.config)
        await self.log(f"reusing the build of deployment {source.id} ({source.framework}); no rebuild")
        facts = {
            "framework": source.framework or "",
            "reason": source.framework_reason or "",
            "artifact": source.artifact,
            "reused_from": str(source.id),
        }
        return plan, Artifact(source.artifact), facts

    async def own_build(self) -> tuple[Plan, Artifact, dict[str, str]]:
        """The build this deployment made before it waited for its checks."""
        deployment = self.deployment
        await self.log("the required checks passed: releasing this build")
        facts = {
            "framework": deployment.framework or "",
            "reason": deployment.framework_reason or "",
            "artifact": deployment.artifact or "",
        }
        artifact = Artifact(deployment.artifact or "", cache_hit=bool(deployment.cache_hit))
        return Plan.from_snapshot(deployment.config), artifact, facts

    async def park(self) -> None:
        """Hold the fresh build while its checks have not passed (`deploy.after: checks`)."""
        held = await check_gates.park_after_build(self.sessions, self.id)
        if held is None:
            return
        await records.start_phase(self.sessions, self.id, "checks", after_line=self.log.seq)
        await self.sink.emit(PhaseStarted(self.id, "checks", utcnow()))
        # the build phases are closed now, so the build time is final
        await records.update(
            self.sessions, self.id, build_seconds=phase_seconds(await self._phases(), *BUILD_TIME_PHASES)
        )
        await self.log(f"built; {held[1]} (deploy.after: checks)")
        raise _Parked(*held)

    async def load_env(self) -> None:
        """The project's variables for this environment, the built-in AUTOSTACK_* set over them."""
        stored = await self.env_for(self.claim.project, self.claim.environment)
        # a secret a build prints (one in the source, or a tool echoing it) is masked from the start
        self.log.add_secrets(stored.secrets)
        url = self.target.url_for(self.site.project, self.site.environment)
        claim = self.claim
        builtins = builtin_variables(facts_of(url, claim.project, claim.environment, self.deployment))
        values, ignored = with_builtins(stored.values, builtins)
        for name in ignored:
            await self.log(f"{name} is set by AutoStack for each deployment; the stored {name} is ignored")
        keys = tuple(k for k in stored.secret_keys if k in values)
        self.app_env = AppEnv(values, stored.secrets, keys)

    def run_env(self, plan: Plan) -> dict[str, str]:
        """What the app (and its release and seed commands) runs with: autostack.yml's `env`,
        then the stored variables, then the built-ins."""
        return {**{k: v for k, v in plan.env.items() if k not in self.app_env.values}, **self.app_env.values}

    def build_env(self, plan: Plan) -> BuildEnv:
        """The run environment split for the build: secrets apart, so a target can keep them
        out of what it produces."""
        values = self.run_env(plan)
        secret = set(self.app_env.secret_keys)
        return BuildEnv(
            plain={k: v for k, v in values.items() if k not in secret},
            secrets={k: v for k, v in values.items() if k in secret},
        )

    async def one_offs(self, plan: Plan, artifact: Artifact) -> None:
        """The release command, then (a preview's first time) the seed command, in the `release`
        phase: both before the new version gets traffic, so a failure leaves the old one serving."""
        environment = self.claim.environment
        seed = plan.seed if environment.kind == "preview" and environment.seeded_at is None else None
        if not plan.release and not seed:
            return
        await self.enter("release", "deploying")
        for what, command in (("release", plan.release), ("seed", seed)):
            if not command:
                continue
            source = f" (from {plan.release_source})" if what == "release" and plan.release_source else ""
            await self.log(f"{what}{source}: $ {command}")
            self.phase = what  # a failure reads `seed failed: …`; both are logged in the release phase
            await self.target.run_once(
                self.site, artifact, plan, command, self.run_env(plan), self.log, self.app_env.secrets, what
            )
            if what == "seed":
                await records.mark_seeded(self.sessions, environment.id)
                await self.log("seed ran; later deployments of this preview do not run it again")

    async def deploy(self, plan: Plan, artifact: Artifact, facts: dict[str, str] | None) -> str:
        """Run the one-offs, start, check and switch to the build; `facts` (of a fresh build) get
        its build time."""
        app_env = self.app_env
        await self.one_offs(plan, artifact)
        await self.enter("start", "deploying")
        if facts is not None:
            # entering start closed the build phases, so their durations are final now
            seconds = phase_seconds(await self._phases(), *BUILD_TIME_PHASES)
            await records.update(self.sessions, self.id, build_seconds=seconds)
            facts["build_seconds"] = f"{seconds:.1f}"
        self.release = await self.target.release(
            self.site, artifact, plan, self.run_env(plan), self.log, secrets=app_env.secrets
        )
        await self.enter("health")
        await self.target.health(self.release, plan, self.log)
        await self.enter("switch")
        url = await self.target.switch(self.site, self.release)
        self.release = None  # the environment owns it now
        await self.log(f"{self.site.environment} is live at {url}")
        return url

    async def run(self) -> tuple[str, str | None, dict[str, object]]:
        values: dict[str, object] = {}
        await self.load_env()
        reused = bool(self.deployment.source_deployment_id) or self.resumed
        if self.resumed:
            plan, artifact, facts = await self.own_build()
        else:
            plan, artifact, facts = await (self.reuse() if reused else self.build())
        values.update(
            config=plan.snapshot(),
            framework=plan.framework,
            framework_reason=plan.reason,
            artifact=artifact.ref,
            cache_hit=artifact.cache_hit if self.resumed or not reused else None,
        )
        await records.update(self.sessions, self.id, **values)
        if not reused:
            await self.park()
        values["url"] = await self.deploy(plan, artifact, None if reused else facts)
        return "ready", None, {**values, "facts": facts}

    def failure(self, error: Exception) -> tuple[str, int | None]:
        """`<phase> failed: <the first error line of the phase>` (else the error's own message),
        without server paths; and the number of the log line quoted."""
        # an app that crashes while being health-checked printed why during start
        begin = self.phase_starts.get("start" if self.phase == "health" else self.phase, self.log.start_seq)
        lines = [] if isinstance(error, KnownCause) else self.log.lines[begin - self.log.start_seq :]
        found = first_error(enumerate(lines, start=begin + 1))
        detail = found.text if found is not None else self.log.masker.mask(str(error))
        detail = detail.removeprefix(f"{self.phase} failed: ")
        detail = strip_server_paths(detail, self.id, self.server_roots)
        return f"{self.phase} failed: {detail}", found.number if found is not None else None

    async def _phases(self) -> dict[str, object]:
        async with self.sessions() as session:
            row = await session.get(Deployment, self.id)
            return dict(row.phases or {}) if row is not None else {}


async def _watch(sessions: records.Sessions, deployment_id: int, task: asyncio.Task[object]) -> None:
    """Cancel the run as soon as another worker marks the deployment superseded or cancelled;
    renew this process's lease on it meanwhile."""
    renew_at = time.monotonic() + leases.RENEW_EVERY
    while not task.done():
        await asyncio.sleep(CANCEL_POLL_SECONDS)
        if time.monotonic() >= renew_at:
            renew_at = time.monotonic() + leases.RENEW_EVERY
            with contextlib.suppress(SQLAlchemyError, OSError):  # tried again at the next renewal
                await leases.renew_deployment(sessions, deployment_id, leases.process_owner())
        if await records.state_of(sessions, deployment_id) in ("superseded", "cancelled"):
            task.cancel()
            return


def _read_config(src: Path) -> RepoConfig:
    for name in CONFIG_FILENAMES:
        if (src / name).is_file():
            return parse_config((src / name).read_text(errors="replace"), filename=name)
    return RepoConfig()


async def run_deployment(
    sessions: records.Sessions,
    deployment_id: int,
    sink: EventSink,
    target: Target,
    *,
    work_dir: Path,
    fetch: TarballWriter | None = None,
    env_for: EnvProvider = no_env,
    final_try: bool = True,
    left_to_lease: Callable[[], bool] = _never,
) -> str | None:
    """Run a queued deployment to a terminal state; return that state (None if not claimed).

    `fetch` writes the commit's tarball (GitHub deployments); without it the deployment's
    `source` column is used (CLI uploads and local folders). A temporary error (store.errors)
    puts it back in the queue and returns "queued", unless this is the `final_try`. A run
    cancelled while `left_to_lease()` is true (its worker's drain ran out of time) is not
    failed: the deployment keeps its state and lease, and a live replica takes it over once
    the lease expires.
    """
    claim = await records.claim(sessions, deployment_id)
    if claim is None:
        return None
    for replaced in claim.superseded:
        await sink.emit(
            Finished(replaced, "cancelled", "superseded", f"superseded by deployment {deployment_id}")
        )
    run = _Run(sessions, claim, sink, target, work_dir, fetch, env_for)
    if claim.deployment.phases:  # it ran before and was queued again: its log goes on after those lines
        run.log = await DeploymentLogWriter.resume(sessions, deployment_id, sink)
    return await _drive(run, final_try=final_try, left_to_lease=left_to_lease)


async def release_deployment(
    sessions: records.Sessions,
    deployment_id: int,
    sink: EventSink,
    target: Target,
    *,
    work_dir: Path,
    env_for: EnvProvider = no_env,
    left_to_lease: Callable[[], bool] = _never,
) -> str | None:
    """Release a deployment that waited for its checks, once they passed: its own build
    starts, is health-checked and takes the traffic. None when it is not to be released.
    `left_to_lease` as for run_deployment."""
    released = await check_gates.claim_release(sessions, deployment_id, IN_PROGRESS)
    if released is None:
        state = await records.state_of(sessions, deployment_id)
        if state in ("superseded", "cancelled"):  # by a newer deployment, or a lock
            reason = await _superseded_reason(sessions, deployment_id)
            await sink.emit(Finished(deployment_id, "cancelled", state, reason))
        return None
    claim = records.Claim(released.deployment, released.project, released.environment, ())
    run = _Run(sessions, claim, sink, target, work_dir, None, env_for, resumed=True)
    run.log = await DeploymentLogWriter.resume(sessions, deployment_id, sink)  # after the build's lines
    return await _drive(run, left_to_lease=left_to_lease)


async def _drive(run: _Run, *, final_try: bool = True, left_to_lease: Callable[[], bool] = _never) -> str:
    """Run a claimed deployment to a terminal state, or until it parks to wait for checks (or,
    after a temporary error before the `final_try`, until it is queued again)."""
    sessions, deployment_id = run.sessions, run.id
    extra = {"deployment_id": deployment_id}
    task = asyncio.create_task(run.run(), name=f"deployment {deployment_id}")
    watcher = asyncio.create_task(_watch(sessions, deployment_id, task))
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
    except _Superseded:
        state, reason = "superseded", await _superseded_reason(sessions, deployment_id)
    except _Parked as parked:
        await _park(run, parked)
        return parked.state
    except PERMANENT as exc:
        await run.log.flush()
        reason, line = run.failure(exc)
        state = "failed"
        if line is not None:
            await records.mark_error_line(sessions, deployment_id, run.phase, line)
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
    await _end(run, state, reason, values)
    return state


async def _requeue(run: _Run, reason: str) -> str:
    """Back to the queue after a temporary error: the old version keeps serving meanwhile."""
    if run.release is not None:
        with contextlib.suppress(Exception):
            await run.release.stop()
    await run.log(f"{reason}; this is a temporary error, so the deployment starts over shortly")
    await run.log.flush()
    requeued = await records.requeue(run.sessions, run.id, f"retrying: {reason}")
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    log.warning("deployment %s queued again: %s", run.id, reason, extra={"deployment_id": run.id})
    return "queued" if requeued else (await records.state_of(run.sessions, run.id) or "failed")


async def _leave_to_lease(run: _Run) -> None:
    """Stop this process's part of a run cut off by its worker's stop, leaving the stored
    deployment (state, lease) for the replica that takes it over."""
    if run.release is not None:
        with contextlib.suppress(Exception):
            await run.release.stop()
    await run.log(
        f"the worker stopped during {run.phase} before this deployment finished; once its lease"
        " expires, a running worker takes it over"
    )
    await run.log.flush()
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    log.warning(
        "deployment %s cut off in %s: left to its lease",
        run.id,
        run.phase,
        extra={"deployment_id": run.id},
    )


async def _park(run: _Run, parked: _Parked) -> None:
    await run.log.flush()
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    await run.sink.emit(Held(run.id, parked.state, parked.reason))
    log.info("deployment %s %s: %s", run.id, parked.state, parked.reason, extra={"deployment_id": run.id})


async def _superseded_reason(sessions: records.Sessions, deployment_id: int) -> str:
    async with sessions() as session:
        row = await session.get(Deployment, deployment_id)
        return row.reason if row is not None and row.reason else "superseded by a newer deployment"


async def _end(run: _Run, state: str, reason: str | None, values: dict[str, object]) -> None:
    if run.release is not None:
        with contextlib.suppress(Exception):
            await run.release.stop()
    await run.log.flush()
    stored = values.pop("facts", None)
    facts = {k: str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}
    row = await records.finish(run.sessions, run.id, state, reason=reason, **values)
    await asyncio.to_thread(shutil.rmtree, run.work, True)
    await run.sink.emit(
        Finished(run.id, OUTCOMES.get(row.state, "failure"), row.state, row.reason, row.url, facts)
    )
    log.info("deployment %s %s", run.id, row.state, extra={"deployment_id": run.id, "state": row.state})


async def recover_interrupted(sessions: records.Sessions, sink: EventSink | None = None) -> list[int]:
    """Fail deployments a stopped worker left in progress (the worker calls this at start-up)."""
    ids = await records.recover_interrupted(sessions)
    if sink is not None:
        for deployment_id in ids:
            await sink.emit(
                Finished(
                    deployment_id,
                    "failure",
                    "failed",
                    "interrupted: AutoStack stopped during this deployment",
                )
            )
    return ids
