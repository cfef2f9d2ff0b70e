"""Package managers an install command needs (uv, poetry, pipenv, yarn, pnpm, bun), set up once.

A tool already on PATH is used as it is; otherwise it is installed under the cache folder, never
into the machine: Python tools in a virtualenv of their own, yarn and pnpm as corepack shims
(which honour package.json's packageManager version), bun from the npm registry.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from deployer.dependency_caches import tool_of
from deployer.targets.base import LogFn, TargetError
from deployer.targets.local.cache import lock_for
from deployer.targets.local.commands import run_command
from deployer.targets.local.environment import base_env

_PYTHON_TOOLS = ("uv", "poetry", "pipenv")


class PackageTools:
    """Finds or installs the package manager of one build under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def bin(self) -> Path:
        """Links to every tool installed here; it goes on the PATH of builds that need one."""
        return self.root / "bin"

    async def python_manager(self, install: str, python: str, manifest: dict[str, str], log: LogFn) -> None:
        """Make uv, poetry or pipenv available when `install` runs one and PATH has none."""
        tool = tool_of(install)
        if tool not in _PYTHON_TOOLS or shutil.which(tool, path=base_env().get("PATH")):
            return
        manifest["tools_bin"] = str(self.bin)
        async with lock_for(f"tool:{tool}"):
            if (self.bin / tool).exists():
                return
            venv = self.root / tool
            await log(f"{tool} is not installed on this machine; installing it for this build")
            await _check(f"{sys.executable} -m venv {venv}", base_env(), log)
            await _check(f"{venv}/bin/python -m pip install --quiet {tool}", base_env(), log)
            self.bin.mkdir(parents=True, exist_ok=True)
            os.symlink(venv / "bin" / tool, self.bin / tool)

    async def node_manager(
        self, install: str, manifest: dict[str, str], env: dict[str, str], log: LogFn
    ) -> None:
        """Make yarn, pnpm (through corepack) or bun available when `install` runs one."""
        tool = tool_of(install)
        if tool not in ("yarn", "pnpm", "bun") or shutil.which(tool, path=env.get("PATH")):
            return
        if tool == "bun":
            await self._bun(manifest, env, log)
            return
        if not shutil.which("corepack", path=env.get("PATH")):
            raise TargetError(
                f"this app installs with {tool}, and neither {tool} nor corepack is on this machine"
            )
        corepack = self.root / "corepack"
        manifest["corepack"] = str(corepack)
        async with lock_for("tool:corepack"):
            if not (corepack / "bin" / tool).exists():
                (corepack / "bin").mkdir(parents=True, exist_ok=True)
                await log(f"{tool} is not on PATH; using it through corepack")
                await _check(f"corepack enable --install-directory {corepack / 'bin'} yarn pnpm", env, log)

    async def _bun(self, manifest: dict[str, str], env: dict[str, str], log: LogFn) -> None:
        folder = self.root / "bun"
        manifest["tools_bin"] = str(self.bin)
        async with lock_for("tool:bun"):
            if (self.bin / "bun").exists():
                return
            await log(
                "bun is not installed on this machine; installing it from the npm registry for this build"
            )
            folder.mkdir(parents=True, exist_ok=True)
            await _check(f"npm install --no-audit --no-fund --prefix {folder} bun", env, log)
            self.bin.mkdir(parents=True, exist_ok=True)
            os.symlink(folder / "node_modules" / ".bin" / "bun", self.bin / "bun")


async def _check(command: str, env: dict[str, str], log: LogFn) -> None:
    code = await run_command(command, cwd=Path.cwd(), env=env, log=log)
    if code != 0:
        raise TargetError(f"setting up the package manager failed: `{command}` exited {code}")
