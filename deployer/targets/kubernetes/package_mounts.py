"""Package managers' download caches in generated Dockerfiles, as BuildKit cache mounts (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from deployer.dependency_caches import caches_used
from deployer.plan import Plan

# each package manager's download cache as a BuildKit cache mount (variables, mount target): kept
# in the environment's BuildKit state, so a changed lockfile downloads only what is new. Cargo,
# Maven and Gradle use their images' own cache folders, mounted where they build.
_PACKAGE_CACHES = {
    "npm": ("npm_config_cache=/cache/npm", "/cache/npm"),
    "yarn": ("YARN_CACHE_FOLDER=/cache/yarn", "/cache/yarn"),
    "pnpm": ("npm_config_store_dir=/cache/pnpm-store", "/cache/pnpm-store"),
    "bun": ("BUN_INSTALL_CACHE_DIR=/cache/bun", "/cache/bun"),
    "pip": ("PIP_CACHE_DIR=/cache/pip", "/cache/pip"),
    # the cache mount is another filesystem than /venv: uv copies instead of hard-linking
    "uv": ("UV_CACHE_DIR=/cache/uv UV_LINK_MODE=copy", "/cache/uv"),
    "poetry": ("POETRY_CACHE_DIR=/cache/poetry", "/cache/poetry"),
    "pipenv": ("PIPENV_CACHE_DIR=/cache/pipenv PIP_CACHE_DIR=/cache/pip", "/cache/pipenv"),
    "go": ("GOMODCACHE=/cache/go/mod GOCACHE=/cache/go/build", "/cache/go"),
}


@dataclass(frozen=True, slots=True)
class PackageCaches:
    """The ENV line and the RUN mounts that keep a plan's package downloads between builds."""

    names: tuple[str, ...]

    def env(self) -> str:
        """The ENV line pointing each tool at its mounted folder ("" when none)."""
        values = " ".join(_PACKAGE_CACHES[n][0] for n in self.names)
        return f"ENV {values}" if values else ""

    def mounts(self) -> str:
        """The RUN flags mounting each cache."""
        targets = dict.fromkeys(_PACKAGE_CACHES[n][1] for n in self.names)
        if "pipenv" in self.names:
            targets["/cache/pip"] = None
        return "".join(f"--mount=type=cache,target={t} " for t in targets)


def package_caches(plan: Plan) -> PackageCaches:
    """The package caches the plan's install and build commands fill, as mounts."""
    return PackageCaches(tuple(n for n in caches_used(plan) if n in _PACKAGE_CACHES))
