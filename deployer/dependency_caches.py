"""Which package managers' download caches an install or build command fills (pure).

Both targets keep these between builds: the local one in folders under its cache folder, the
kubernetes one in BuildKit cache mounts.
"""

from __future__ import annotations

import re

from deployer.plan import Plan

MAVEN = "maven"
# the program an install or build command starts with -> the cache it fills
_TOOLS = {
    "npm": "npm",
    "npx": "npm",
    "yarn": "yarn",
    "pnpm": "pnpm",
    "bun": "bun",
    "pip": "pip",
    "pip3": "pip",
    "uv": "uv",
    "poetry": "poetry",
    "pipenv": "pipenv",
    "go": "go",
    "cargo": "cargo",
    "mvn": MAVEN,
    "./mvnw": MAVEN,
    "gradle": "gradle",
    "./gradlew": "gradle",
}


def tool_of(command: str) -> str:
    """The program a command runs first, past `VAR=value` prefixes."""
    words = [w for w in command.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
    return words[0] if words else ""


def caches_used(plan: Plan) -> list[str]:
    """The caches the plan's install and build commands fill, in order, each once."""
    found = []
    for command in (plan.install, plan.build):
        for part in (command or "").split("&&"):
            name = _TOOLS.get(tool_of(part.strip()))
            if name is None and plan.runtime == "python" and "pip install" in part:
                name = "pip"
            if name is not None and name not in found:
                found.append(name)
    return found
