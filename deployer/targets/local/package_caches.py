"""Package managers' download caches on the local target, kept under the cache folder for every build.

A lockfile change reinstalls, but packages already fetched once come from these folders instead of
the registry. The folders are shared by every project on the machine, as each tool's own cache is.
"""

from __future__ import annotations

from pathlib import Path

from deployer.dependency_caches import MAVEN as _MAVEN
from deployer.dependency_caches import caches_used
from deployer.plan import Plan

# cache name -> (variable, sub-folder) pairs that point the tool at a folder under the cache root
_FOLDERS: dict[str, tuple[tuple[str, str], ...]] = {
    "npm": (("npm_config_cache", "npm"),),
    "yarn": (("YARN_CACHE_FOLDER", "yarn"),),  # classic, and berry with its global cache off
    "pnpm": (("npm_config_store_dir", "pnpm-store"),),
    "bun": (("BUN_INSTALL_CACHE_DIR", "bun"),),
    "pip": (("PIP_CACHE_DIR", "pip"),),
    "uv": (("UV_CACHE_DIR", "uv"),),
    "poetry": (("POETRY_CACHE_DIR", "poetry"),),
    "pipenv": (("PIPENV_CACHE_DIR", "pipenv"),),
    "go": (("GOMODCACHE", "go/mod"), ("GOCACHE", "go/build")),
    "cargo": (("CARGO_HOME", "cargo"),),
    "gradle": (("GRADLE_USER_HOME", "gradle"),),
}


def cache_env(root: Path) -> dict[str, str]:
    """The variables that point every supported package manager at its folder under `root`."""
    env = {name: str(root / folder) for pairs in _FOLDERS.values() for name, folder in pairs}
    # Maven 3.8 reads no variable for its repository; MAVEN_OPTS reaches mvn and ./mvnw alike
    env["MAVEN_OPTS"] = f"-Dmaven.repo.local={root / _MAVEN}"
    return env


def _folders(root: Path, name: str) -> list[Path]:
    if name == _MAVEN:
        return [root / _MAVEN]
    return [root / folder for _, folder in _FOLDERS[name]]


def describe(root: Path, plan: Plan) -> str | None:
    """The build log's line on which package caches this build starts from, or None if it uses none."""
    kept: list[str] = []
    empty: list[str] = []
    for name in caches_used(plan):
        filled = any(f.is_dir() and any(f.iterdir()) for f in _folders(root, name))
        (kept if filled else empty).append(name)
    parts = []
    if kept:
        parts.append(f"package cache restored from earlier builds: {', '.join(kept)}")
    if empty:
        parts.append(f"package cache empty, filled by this build: {', '.join(empty)}")
    return "; ".join(parts) or None
