"""One claimed deployment while it runs: where it builds, the phase it is in, its log and the
variables its app gets. The build (deployer.building) and the release (deployer.releasing)
each work on it; the pipeline drives it to its end."""

from __future__ import annotations

from pathlib import Path

from deployer.app_env import AppEnv, EnvProvider
from deployer.builtins import builtin_variables, facts_of, with_builtins
from deployer.deploylog import DeploymentLogWriter
from deployer.error_lines import first_error, strip_server_paths
from deployer.events import EventSink, PhaseStarted
from deployer.plan import Plan
from deployer.source import TarballWriter
from deployer.targets.base import BuildEnv, KnownCause, Release, Site, Target
from store import deployments
from store.db import Sessions
from store.deployment_runs import Claim
from store.models import Deployment, utcnow

# a run whose stored state left these was stopped from outside (superseded, cancelled)
_RUNNING = ("queued", "building", "deploying")


class Superseded(Exception):
    """A newer deployment took over this environment while this one ran (or it was cancelled)."""


class PipelineRun:
    """A claimed deployment's run: its row as claimed, its site, its log and its app's variables."""

    def __init__(
        self,
        sessions: Sessions,
        claim: Claim,
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
        """Begin `phase` (moving to `state`), unless the deployment was stopped meanwhile."""
        if await deployments.state_of(self.sessions, self.id) not in _RUNNING:
            raise Superseded
        self.phase = phase
        # every line of the previous phase is stored before this phase's header is
        await self.log.flush()
        self.phase_starts[phase] = self.log.seq
        await deployments.start_phase(self.sessions, self.id, phase, state, after_line=self.log.seq)
        await self.sink.emit(PhaseStarted(self.id, phase, utcnow()))

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
