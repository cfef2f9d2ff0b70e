"""The environment local builds and app processes run with: never AutoStack's own secrets."""

from __future__ import annotations

import os
from pathlib import Path

_PASSTHROUGH = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "GOPROXY",
    "GOFLAGS",
    "GOROOT",
    "PYENV_ROOT",
    "NVM_DIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "JAVA_HOME",
)
_PASSTHROUGH_PREFIXES = (
    "PIP_",
    "NPM_CONFIG_",
    "npm_config_",
    "UV_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
# one machine hosts every app of the local target, so each gets few workers
_LOCAL_WORKER_CAP = 4


def base_env() -> dict[str, str]:
    """The few variables of AutoStack's own environment that tools need; never its secrets."""
    return {k: v for k, v in os.environ.items() if k in _PASSTHROUGH or k.startswith(_PASSTHROUGH_PREFIXES)}


def web_concurrency(cpus: int | None = None, cap: int = _LOCAL_WORKER_CAP) -> int:
    """Server workers for this machine: 2 * CPUs + 1, capped."""
    return max(1, min(2 * (cpus or os.cpu_count() or 1) + 1, cap))


def runtime_env(manifest: dict[str, str], app_dir: Path) -> dict[str, str]:
    """PATH and friends so the app's commands find its toolchain, virtualenv or node_modules."""
    env = base_env()
    paths = [str(app_dir / "node_modules" / ".bin")]
    if venv := manifest.get("venv"):
        paths.insert(0, f"{venv}/bin")
        env["VIRTUAL_ENV"] = venv
        env["UV_PROJECT_ENVIRONMENT"] = venv
    for key in ("toolchain_bin", "tools_bin"):
        if folder := manifest.get(key):
            paths.append(folder)
    if corepack := manifest.get("corepack"):
        paths.append(f"{corepack}/bin")
        env["COREPACK_HOME"] = f"{corepack}/home"
        env["COREPACK_ENABLE_DOWNLOAD_PROMPT"] = "0"
    if go_cache := manifest.get("go_cache"):
        env["GOMODCACHE"], env["GOCACHE"] = f"{go_cache}/mod", f"{go_cache}/build"
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    env["WEB_CONCURRENCY"] = str(web_concurrency())
    return env
