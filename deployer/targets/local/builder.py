"""Local builds: an isolated folder per deployment, dependencies from a lockfile-keyed cache."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from deployer.plan import Plan
from deployer.targets.base import Artifact, LogFn, PhaseFn, TargetError
from deployer.targets.local import package_caches, toolchains
from deployer.targets.local.cache import (
    cache_key,
    hardlink_tree,
    kept_dir,
    lock_for,
    restore_folders,
    save_folders,
)
from deployer.targets.local.commands import run_command
from deployer.targets.local.environment import base_env, runtime_env
from deployer.targets.local.tools import PackageTools
from store.environment_names import PRODUCTION

__all__ = ["DOCKER_NEEDS_KUBERNETES", "BuildLayout", "LocalBuilder", "base_env", "runtime_env"]

DOCKER_NEEDS_KUBERNETES = (
    "this project builds from a Dockerfile, which needs the kubernetes target; set "
    "AUTOSTACK_TARGET=kubernetes, or remove the Dockerfile (or set build.start) so AutoStack "
    "runs it as a local process"
)


@dataclass(frozen=True, slots=True)
class BuildLayout:
    """Where one build lives: the app folder and the dependency folders it runs with."""

    folder: Path

    @property
    def app(self) -> Path:
        """The app's own files (the configured root inside the source)."""
        return self.folder / "app"

    @property
    def manifest(self) -> Path:
        """What the build produced, read back for release, rollback and restore."""
        return self.folder / "artifact.json"


class LocalBuilder:
    """Installs and builds apps in folders under `builds_dir` with caches under `cache_dir`."""

    def __init__(self, builds_dir: Path, cache_dir: Path) -> None:
        self.builds_dir = builds_dir
        self.cache_dir = cache_dir
        self.tools = PackageTools(cache_dir / "tools")

    async def build(
        self,
        project: str,
        deployment_id: int,
        source: Path,
        plan: Plan,
        log: LogFn,
        phase: PhaseFn,
        env: dict[str, str] | None = None,
        environment: str = PRODUCTION,
    ) -> Artifact:
        """Move `source` into a fresh build folder, install (or reuse) deps, run the build with
        `env` (the deployment's variables, secrets included: the log masks them); folders the
        plan keeps between builds (`.next/cache`) are `environment`'s own."""
        packages = self.cache_dir / "packages"
        extra = {**package_caches.cache_env(packages), **plan.env, **(env or {})}
        if plan.runtime == "docker":
            raise TargetError(DOCKER_NEEDS_KUBERNETES)
        # before anything is copied or installed: a missing interpreter fails the build at once
        toolchain = await asyncio.to_thread(toolchains.choose, plan)
        layout = BuildLayout(self.builds_dir / project / str(deployment_id))
        await asyncio.to_thread(_place_source, source / plan.root, layout)
        manifest: dict[str, str] = {"runtime": plan.runtime}
        if toolchain is not None:
            manifest["toolchain_bin"] = toolchain.bin_dir
            await log(
                f"using {plan.runtime} {'.'.join(map(str, toolchain.version))} ({toolchain.executable}) "
                f"for {plan.version} from {plan.version_source}"
            )
        await phase("install")
        for note in plan.notes:
            await log(note)
        if cache_note := await asyncio.to_thread(package_caches.describe, packages, plan):
            await log(cache_note)
        hit = await self._install(layout.app, plan, manifest, toolchain, log, extra)
        await phase("build")
        if plan.build:
            kept = kept_dir(self.cache_dir / "build", project, environment)
            # a new environment starts from production's last build, copied: never written back
            seed = (
                kept_dir(self.cache_dir / "build", project, PRODUCTION) if environment != PRODUCTION else None
            )
            restored = await asyncio.to_thread(restore_folders, kept, layout.app, plan.build_cache, seed)
            for folder, seeded in restored:
                origin = "production's last build" if seeded else "the previous build"
                await log(f"kept from {origin}: {folder}")
            await log(f"$ {plan.build}")
            await _check(plan.build, layout.app, {**runtime_env(manifest, layout.app), **extra}, log, "build")
            await asyncio.to_thread(save_folders, layout.app, kept, plan.build_cache)
        if plan.static_dir and not (layout.app / plan.static_dir).is_dir():
            raise TargetError(
                f"the build left no {plan.static_dir}/ folder to serve; set "
                "build.start in autostack.yml if this app runs a server"
            )
        layout.manifest.write_text(json.dumps(manifest))
        return Artifact(
            ref=str(layout.folder),
            cache_hit=hit,
            facts={"cache": "hit" if hit else ("miss" if plan.install else "none")},
        )

    async def _install(
        self,
        app: Path,
        plan: Plan,
        manifest: dict[str, str],
        toolchain: toolchains.Toolchain | None,
        log: LogFn,
        extra: dict[str, str],
    ) -> bool:
        version = ".".join(map(str, toolchain.version)) if toolchain else sys.version
        if plan.runtime == "python":
            python = toolchain.executable if toolchain else sys.executable
            return await self._python(app, plan, manifest, python, version, log, extra)
        if plan.runtime == "node" and plan.install:
            await self.tools.node_manager(plan.install, manifest, runtime_env(manifest, app), log)
            return await self._node(app, plan, manifest, version, log, extra)
        if plan.runtime == "go" and plan.install:
            return await self._go(app, plan, manifest, log, extra)
        if plan.install:
            await log(f"$ {plan.install}")
            await _check(plan.install, app, {**runtime_env(manifest, app), **extra}, log, "install")
        return False

    async def _python(
        self,
        app: Path,
        plan: Plan,
        manifest: dict[str, str],
        python: str,
        version: str,
        log: LogFn,
        extra: dict[str, str],
    ) -> bool:
        key = cache_key(app, plan, version)
        venv = self.cache_dir / "python" / key
        manifest["venv"] = str(venv)
        if plan.install:
            await self.tools.python_manager(plan.install, python, manifest, log)
        async with lock_for(key):
            if (venv / ".autostack-complete").is_file():
                await log(
                    f"dependencies from cache ({', '.join(plan.lockfiles)} unchanged, "
                    f"key {key}): install skipped"
                )
                return True
            await asyncio.to_thread(shutil.rmtree, venv, True)
            await log(f"creating virtualenv for key {key} with Python {version.split()[0]}")
            await _check(f"{python} -m venv {venv}", app, base_env(), log, "virtualenv")
            if plan.install:
                await log(f"$ {plan.install}")
                env = {**runtime_env(manifest, app), **extra}
                await _check(plan.install, app, env, log, "install", cleanup=venv)
            (venv / ".autostack-complete").touch()
        return False

    async def _node(
        self, app: Path, plan: Plan, manifest: dict[str, str], version: str, log: LogFn, extra: dict[str, str]
    ) -> bool:
        key = cache_key(app, plan, version)
        cached = self.cache_dir / "node" / key
        env = {**runtime_env(manifest, app), **extra}
        async with lock_for(key):
            if (cached / ".autostack-complete").is_file():
                await log(
                    f"dependencies from cache ({', '.join(plan.lockfiles)} unchanged, "
                    f"key {key}): install skipped"
                )
                if (cached / "node_modules").is_dir():
                    await asyncio.to_thread(hardlink_tree, cached / "node_modules", app / "node_modules")
                return True
            await log(f"$ {plan.install}")
            await _check(plan.install or "", app, env, log, "install")
            await asyncio.to_thread(shutil.rmtree, cached, True)
            cached.mkdir(parents=True)
            if (app / "node_modules").is_dir():
                await asyncio.to_thread(hardlink_tree, app / "node_modules", cached / "node_modules")
            (cached / ".autostack-complete").touch()
        return False

    async def _go(
        self, app: Path, plan: Plan, manifest: dict[str, str], log: LogFn, extra: dict[str, str]
    ) -> bool:
        key = cache_key(app, plan)
        marker = self.cache_dir / "go" / "keys" / key
        manifest["go_cache"] = str(self.cache_dir / "packages" / "go")
        env = {**runtime_env(manifest, app), **extra}
        if marker.is_file():
            await log(f"dependencies from cache (go.sum unchanged, key {key}): install skipped")
            return True
        await log(f"$ {plan.install}")
        await _check(plan.install or "", app, env, log, "install")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        return False


async def _check(
    command: str, cwd: Path, env: dict[str, str], log: LogFn, what: str, cleanup: Path | None = None
) -> None:
    code = await run_command(command, cwd=cwd, env=env, log=log)
    if code != 0:
        if cleanup is not None:
            await asyncio.to_thread(shutil.rmtree, cleanup, True)
        raise TargetError(f"{what} failed: `{command}` exited {code}")


def _place_source(source: Path, layout: BuildLayout) -> None:
    if not source.is_dir():
        raise TargetError(f"build.root {source.name!r} is not a folder in the repository")
    if layout.folder.exists():
        shutil.rmtree(layout.folder)
    layout.folder.mkdir(parents=True)
    shutil.move(str(source), str(layout.app))
