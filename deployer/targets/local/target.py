"""The local target: builds in folders, apps as supervised processes, traffic via the router."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from deployer.oneoff import first_error_line
from deployer.plan import Plan
from deployer.runtime_logs import RuntimeLine, RuntimeQuery
from deployer.targets.base import (
    Artifact,
    BuildEnv,
    CertificateState,
    KnownCause,
    LogFn,
    PhaseFn,
    Release,
    Site,
    TargetError,
)
from deployer.targets.local import pids
from deployer.targets.local.app_watch import PROBE_SECONDS, AppWatch, ChangeFn, no_change
from deployer.targets.local.builder import DOCKER_NEEDS_KUBERNETES, LocalBuilder, runtime_env
from deployer.targets.local.commands import run_command
from deployer.targets.local.pids import PidRecord, PidRecords
from deployer.targets.local.ports import listening_ports
from deployer.targets.local.router import Router, hostname_for
from deployer.targets.local.runner import Supervisor, free_port
from deployer.targets.local.runtime_log import RuntimeLogs

KEEP_BUILDS = 3
ONE_OFF_SECONDS = 1800  # a release or seed command longer than this is stopped and fails


@dataclass(eq=False)
class LocalRelease:
    """A started app process, not yet (or no longer) receiving traffic."""

    supervisor: Supervisor
    artifact: str
    health_path: str = "/"

    @property
    def address(self) -> str:
        """Where the process answers."""
        return self.supervisor.address

    async def stop(self) -> None:
        """Stop the process and everything it started."""
        await self.supervisor.stop()


class LocalTarget:
    """Implements `Target` with local processes behind one built-in router."""

    def __init__(
        self,
        data_dir: Path,
        *,
        cache_dir: Path | None = None,
        router_port: int = 8080,
        domain: str = "localhost",
        on_app_state: ChangeFn = no_change,
        watch_interval: float = PROBE_SECONDS,
    ) -> None:
        self.builds_dir = data_dir / "builds"
        self.pids = PidRecords(data_dir / "pids")
        self.builder = LocalBuilder(self.builds_dir, cache_dir or data_dir / "cache")
        self.router = Router()
        self.router_port = router_port
        self.domain = domain
        self.live: dict[str, LocalRelease] = {}
        # what each environment's app printed, kept on disk across restarts of serve
        self.runtime_logs = RuntimeLogs(data_dir / "runtime-logs")
        self.on_app_state = on_app_state
        self.watch_interval = watch_interval
        self.watches: dict[str, AppWatch] = {}

    async def reap_orphans(self) -> list[PidRecord]:
        """Stop the apps and builds a killed previous run left behind (serve calls this first,
        before the router starts or anything is restored); returns those that were running."""
        return await asyncio.to_thread(self.pids.reap)

    async def start_router(self, host: str = "127.0.0.1") -> None:
        """Start the built-in router (serve calls this once, before `restore`)."""
        await self.router.start(host, self.router_port)
        self.router_port = self.router.port

    async def close(self) -> None:
        """Stop every app process and the router (serve shutdown)."""
        await asyncio.gather(*(watch.stop() for watch in self.watches.values()))
        self.watches.clear()
        await asyncio.gather(*(release.stop() for release in self.live.values()))
        self.live.clear()
        await self.router.stop()
        self.runtime_logs.close()

    def runtime_log(self, project: str, environment: str, query: RuntimeQuery) -> AsyncIterator[RuntimeLine]:
        """What the environment's app printed (masked), from its file; `previous` changes nothing
        here: one file holds every run of the app, with a note at each restart."""
        return self.runtime_logs.read(project, environment, query)

    def url_for(self, project: str, environment: str) -> str:
        """http://<host>:<router port> for the environment."""
        return f"http://{hostname_for(project, environment, self.domain)}:{self.router_port}"

    async def certificates(
        self, project: str, environment: str, hostnames: Sequence[str]
    ) -> dict[str, CertificateState]:
        """No certificates here: the local router serves plain http."""
        return {host: CertificateState("http", "served over http by the local router") for host in hostnames}

    async def refresh_domains(self, project: str, environment: str) -> None:
        """Nothing to do: the router aliases custom domains by Host header, kept in step with the
        database by each web process (bot.domains.checks.RouteSync), not per release."""

    async def build(
        self, site: Site, source: Path, plan: Plan, log: LogFn, phase: PhaseFn, env: BuildEnv | None = None
    ) -> Artifact:
        """Install and build into a folder of its own; dependencies come from the cache. Secrets
        are plain env here: the build runs on this machine and its log is masked."""
        values = {**env.plain, **env.secrets} if env is not None else {}
        recording = pids.current.set(self.pids)
        try:
            return await self.builder.build(
                site.project, site.deployment_id, source, plan, log, phase, values, site.environment
            )
        finally:
            pids.current.reset(recording)

    async def release(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
    ) -> LocalRelease:
        """Start the built app on a free port with PORT, AUTOSTACK_ENVIRONMENT and its env."""
        if plan.runtime == "docker":
            raise TargetError(DOCKER_NEEDS_KUBERNETES)
        folder = Path(artifact.ref)
        manifest = _manifest(folder)
        app = folder / "app"
        port = free_port()
        command = plan.start or _static_command(plan.static_dir or ".", spa=plan.framework != "static")
        process_env = {
            **runtime_env(manifest, app),
            **plan.env,
            **env,
            "PORT": str(port),
            "AUTOSTACK_ENVIRONMENT": site.environment,
            "HOST": "127.0.0.1",
        }
        await log(f"starting `{command}` on port {port}")
        runtime_log = self.runtime_logs.writer(site.project, site.environment)
        supervisor = Supervisor(
            command,
            cwd=app,
            env=process_env,
            port=port,
            name=f"{site.project}/{site.environment}#{site.deployment_id}",
            on_line=log,
            secrets=secrets,
            pids=self.pids,
            record=runtime_log.append,
        )
        await supervisor.start()
        return LocalRelease(supervisor, artifact.ref, plan.health_path)

    async def run_once(
        self,
        site: Site,
        artifact: Artifact,
        plan: Plan,
        command: str,
        env: dict[str, str],
        log: LogFn,
        secrets: Sequence[str] = (),
        what: str = "release",
    ) -> None:
        """Run `command` in the build's app folder with the deployment's env (no port: it serves
        nothing); its output goes to `log`, which masks `secrets`."""
        folder = Path(artifact.ref)
        app = folder / "app"
        process_env = {**runtime_env(_manifest(folder), app), **plan.env, **env}
        lines: list[str] = []

        async def keep(line: str) -> None:
            lines.append(line)
            await log(line)

        code = await run_command(command, cwd=app, env=process_env, log=keep, limit_seconds=ONE_OFF_SECONDS)
        if code != 0:
            raise TargetError(first_error_line(lines, command, code))

    async def health(self, release: Release, plan: Plan, log: LogFn) -> None:
        """GET the health path until it answers 2xx/3xx; fail on timeout, a dead process, or
        an app that listens on another port than the $PORT it was given."""
        if not isinstance(release, LocalRelease):
            raise TypeError(f"the local target did not start {release!r}")
        url = release.address + plan.health_path
        deadline = time.monotonic() + plan.health_timeout
        last = "no answer yet"
        ports = _PortWatch(release.supervisor)
        async with httpx.AsyncClient(timeout=2.0) as client:
            delay = 0.02
            while time.monotonic() < deadline:
                try:
                    response = await client.get(url)
                    if response.status_code < 400:
                        await log(f"health check passed: GET {plan.health_path} → {response.status_code}")
                        return
                    last = f"GET {plan.health_path} answered {response.status_code}"
                except httpx.HTTPError as exc:
                    last = f"GET {plan.health_path} failed ({type(exc).__name__})"
                if release.supervisor.restarts:
                    tail = release.supervisor.tail
                    said = f"; its last line: {tail[-1]}" if tail else " without printing anything"
                    raise TargetError(f"the app exited before becoming healthy{said}")
                await ports.check()
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.5)
        raise TargetError(
            f"the app did not pass its health check within {plan.health_timeout} s ({last}); "
            f"it must answer GET {plan.health_path} on $PORT (PORT={release.supervisor.port} here), "
            "or set run.healthcheck.path in autostack.yml"
        )

    async def switch(self, site: Site, release: Release) -> str:
        """Point the host at the new process, then drain and stop the old one."""
        if not isinstance(release, LocalRelease):
            raise TypeError(f"the local target did not start {release!r}")
        host = hostname_for(site.project, site.environment, self.domain)
        release.supervisor.detach_output()
        previous_upstream = self.router.route(host, release.address)
        previous = self.live.get(host)
        self.live[host] = release
        await self._watch(site, host, release)
        if previous is not None and previous is not release:
            if previous_upstream is not None:
                await self.router.retire(previous_upstream)
            await previous.stop()
        await asyncio.to_thread(self._prune, site.project, {r.artifact for r in self.live.values()})
        return self.url_for(site.project, site.environment)

    async def _watch(self, site: Site, host: str, release: LocalRelease) -> None:
        """Watch the app that just went live for crashes and failing health checks."""
        old = self.watches.pop(host, None)
        if old is not None:
            await old.stop()
        watch = AppWatch(
            site, release.supervisor, release.health_path, self.on_app_state, self.watch_interval
        )
        self.watches[host] = watch
        await watch.start()

    def _prune(self, project: str, keep: set[str]) -> None:
        """Keep the last few builds of a project so rollback and promote need no rebuild."""
        folder = self.builds_dir / project
        if not folder.is_dir():
            return
        builds = sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        for old in builds[: -KEEP_BUILDS * 2]:
            if str(old) not in keep:
                shutil.rmtree(old, ignore_errors=True)

    async def destroy(self, project: str, environment: str) -> None:
        """Stop routing to the environment and stop its process."""
        host = hostname_for(project, environment, self.domain)
        upstream = self.router.unroute(host)
        release = self.live.pop(host, None)
        watch = self.watches.pop(host, None)
        if watch is not None:
            await watch.stop()
        self.runtime_logs.remove(project, environment)
        if release is not None:
            if upstream is not None:
                await self.router.retire(upstream, limit_seconds=5)
            await release.stop()


class _PortWatch:
    """Fails a start whose process tree listens on other ports than $PORT (twice in a row,
    half a second apart, so a server that binds a helper port first is not misjudged)."""

    INTERVAL = 0.5

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.next_at = time.monotonic() + self.INTERVAL
        self.strikes = 0

    async def check(self) -> None:
        """Look at the listening sockets if it is time; raise TargetError on a wrong port."""
        process = self.supervisor.process
        if time.monotonic() < self.next_at or process is None or process.returncode is not None:
            return
        self.next_at = time.monotonic() + self.INTERVAL
        ports = await asyncio.to_thread(listening_ports, process.pid)
        wrong = bool(ports) and self.supervisor.port not in ports
        self.strikes = self.strikes + 1 if wrong else 0
        if self.strikes >= 2:
            listens = ", ".join(str(port) for port in sorted(ports))
            raise KnownCause(
                f"the app listens on {listens}; listen on $PORT "
                f"(this deployment gave PORT={self.supervisor.port})"
            )


def _manifest(folder: Path) -> dict[str, str]:
    try:
        manifest: dict[str, str] = json.loads((folder / "artifact.json").read_text())
    except (OSError, ValueError):
        raise TargetError(f"build {folder.name} is no longer on disk; redeploy to rebuild it") from None
    return manifest


def _static_command(folder: str, spa: bool) -> str:
    server = f"{sys.executable} -m deployer.targets.local.static_server {folder} --port $PORT"
    return server + " --spa" if spa else server
