"""Which interpreters and compilers this machine has, and the one an app's requested version needs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deployer.plan import Plan
from deployer.targets.base import TargetError
from deployer.versions import Requirement, Version, dotted, parse_version, pick, requirement

_NAMES = {"python": "Python", "node": "Node", "go": "Go", "rust": "Rust", "java": "Java"}
_PROBES = {
    "python": (["-c", "import sys; print(*sys.version_info[:3], sep='.')"], r"(\d+\.\d+\.\d+)"),
    "node": (["--version"], r"v(\d+\.\d+\.\d+)"),
    "go": (["version"], r"go(\d+\.\d+(?:\.\d+)?)"),
    "rust": (["--version"], r"rustc (\d+\.\d+\.\d+)"),
    "java": (["-version"], r"version \"(\d+(?:\.\d+)*)"),
}
_EXECUTABLES = {"node": "node", "go": "go", "rust": "rustc", "java": "java"}


@dataclass(frozen=True, slots=True)
class Toolchain:
    """One interpreter or compiler: its executable and version."""

    executable: str
    version: Version

    @property
    def bin_dir(self) -> str:
        """The folder to put first on PATH so the app's commands find this one."""
        return str(Path(self.executable).parent)


def requirement_of(plan: Plan) -> Requirement | None:
    """The plan's requested runtime version as a Requirement, or None when it names none."""
    if plan.runtime not in _NAMES:
        return None
    return requirement(plan.runtime, plan.version, plan.version_source)


def _candidates(runtime: str) -> list[str]:
    if runtime != "python":
        found = []
        for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
            path = Path(folder) / _EXECUTABLES[runtime]
            if path.is_file() and os.access(path, os.X_OK):
                found.append(str(path))
        if runtime == "node":
            nvm = Path(os.environ.get("NVM_DIR", Path.home() / ".nvm")) / "versions" / "node"
            found += [str(p) for p in sorted(nvm.glob("v*/bin/node"))]
        return found
    found = [sys.executable]
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        found += [
            str(p) for p in sorted(Path(folder).glob("python3*")) if re.fullmatch(r"python3(\.\d+)?", p.name)
        ]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found += [str(p) for p in sorted(pyenv.glob("*/bin/python3"))]
    return found


def _probe(runtime: str, executable: str) -> Version | None:
    args, pattern = _PROBES[runtime]
    try:
        done = subprocess.run([executable, *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    # pyenv shims exit non-zero for versions that are installed but not selected
    match = re.search(pattern, done.stdout + done.stderr) if done.returncode == 0 else None
    return parse_version(match.group(1)) if match else None


def installed(runtime: str) -> list[Toolchain]:
    """Every working interpreter/compiler for `runtime` on this machine, one per version."""
    seen: dict[Version, Toolchain] = {}
    for executable in _candidates(runtime):
        version = _probe(runtime, executable)
        if version is not None and version not in seen:
            seen[version] = Toolchain(executable, version)
    return list(seen.values())


def choose(plan: Plan) -> Toolchain | None:
    """The toolchain to build and run `plan` with; TargetError when none fits what it asks for.

    None when the plan asks for no version (the machine's default is used).
    """
    requirement = requirement_of(plan)
    if requirement is None:
        return None
    found = installed(plan.runtime)
    version = pick(requirement, [t.version for t in found])
    if version is None:
        name = _NAMES[plan.runtime]
        have = ", ".join(map(dotted, sorted({t.version[:2] for t in found}))) or "none"
        raise TargetError(
            f"this app needs {name} {requirement.wanted} (from {requirement.source}); this machine has {have}"
        )
    return next(t for t in found if t.version == version)
