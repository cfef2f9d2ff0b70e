"""Node apps: package manager, requested Node, framework, and how it runs in production (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deployer.detect_base import DetectError, Detection, as_dict, first_line, read_json
from deployer.versions import NODE_LTS

# start scripts that run a development server: never what production runs
_DEV_SERVER = re.compile(
    r"react-scripts start|^vite(\s+(dev|serve)\b.*)?$|vite preview|webpack(-dev-server|\s+serve)"
    r"|ng serve|vue-cli-service serve|^parcel(?!\s+build)|astro dev|next dev"
)


@dataclass(frozen=True, slots=True)
class Manager:
    """The package manager of one project and the commands it runs."""

    name: str  # npm | yarn | pnpm | bun
    install: str
    lockfiles: tuple[str, ...]
    reason: str

    def run(self, script: str) -> str:
        """The command that runs a package.json script."""
        if self.name == "npm":
            return "npm start" if script == "start" else f"npm run {script}"
        return f"{self.name} run {script}" if self.name == "bun" else f"{self.name} {script}"


def _declared(pkg: dict[str, object]) -> tuple[str, int | None] | None:
    """(name, major) from package.json's packageManager field (`pnpm@9.1.0+sha512…`)."""
    match = re.match(r"^(npm|yarn|pnpm|bun)@(\d+)?", str(pkg.get("packageManager") or ""))
    return (match.group(1), int(match.group(2)) if match.group(2) else None) if match else None


def manager(root: Path, pkg: dict[str, object]) -> Manager:
    """Which package manager the repository uses and its frozen-lockfile install command."""
    declared = _declared(pkg)
    by_lock = next(
        (
            (name, lock)
            for lock, name in (
                ("pnpm-lock.yaml", "pnpm"),
                ("bun.lock", "bun"),
                ("bun.lockb", "bun"),
                ("yarn.lock", "yarn"),
                ("package-lock.json", "npm"),
                ("npm-shrinkwrap.json", "npm"),
            )
            if (root / lock).is_file()
        ),
        None,
    )
    name = declared[0] if declared else by_lock[0] if by_lock else "npm"
    lock = by_lock[1] if by_lock and by_lock[0] == name else None
    why = "packageManager in package.json" if declared else lock or "no lockfile"
    locks: tuple[str, ...] = ("package.json", lock) if lock else ("package.json",)
    if (root / ".yarnrc.yml").is_file():
        locks += (".yarnrc.yml",)
    if name == "yarn":
        lock_text = (root / "yarn.lock").read_text(errors="replace")[:2000] if lock else ""
        if declared and declared[1]:
            berry = declared[1] >= 2
        else:
            berry = (root / ".yarnrc.yml").is_file() or "__metadata:" in lock_text
        if berry:
            # node_modules rather than Plug'n'Play, so the installed tree can be cached and reused
            install = "YARN_NODE_LINKER=node-modules YARN_ENABLE_GLOBAL_CACHE=false yarn install"
            install += " --immutable" if lock else ""
            return Manager("yarn", install, locks, f"yarn berry ({why})")
        return Manager(
            "yarn", "yarn install" + (" --frozen-lockfile" if lock else ""), locks, f"yarn classic ({why})"
        )
    if name == "pnpm":
        return Manager(
            "pnpm", "pnpm install" + (" --frozen-lockfile" if lock else ""), locks, f"pnpm ({why})"
        )
    if name == "bun":
        return Manager("bun", "bun install" + (" --frozen-lockfile" if lock else ""), locks, f"bun ({why})")
    if lock:
        return Manager("npm", "npm ci --no-audit --no-fund", locks, f"npm ({why})")
    return Manager("npm", "npm install --no-audit --no-fund", locks, "npm (no lockfile)")


def node_version(root: Path, pkg: dict[str, object]) -> tuple[str, str] | None:
    """(requested version, file) from .nvmrc, .node-version or package.json engines.node."""
    for name in (".nvmrc", ".node-version"):
        if line := first_line(root / name):
            line = line.lower().removeprefix("v")
            if line.startswith("lts/"):
                line = str(NODE_LTS.get(line.removeprefix("lts/"), NODE_LTS["*"]))
            return line, name
    if engine := as_dict(pkg.get("engines")).get("node"):
        return str(engine), "package.json engines.node"
    return None


def _next(root: Path, pm: Manager, scripts: dict[str, object]) -> Detection:
    config = " ".join(p.read_text(errors="replace") for p in root.glob("next.config.*"))
    build = pm.run("build") if "build" in scripts else "next build"
    if re.search(r"output\s*:\s*['\"]standalone['\"]", config):
        # the standalone server serves neither public/ nor .next/static unless copied next to it
        build += " && cp -r .next/static .next/standalone/.next/"
        build += " && { [ ! -d public ] || cp -r public .next/standalone/; }"
        start = "HOSTNAME=127.0.0.1 node .next/standalone/server.js"
        reason = "found next in package.json dependencies; runs its standalone output"
    else:
        start, reason = "next start -p $PORT -H 127.0.0.1", "found next in package.json dependencies"
    return Detection("nextjs", "node", reason, pm.install, build, start, 3000, build_cache=(".next/cache",))


def detect_node(root: Path, start_given: bool = False) -> Detection:
    """A Next.js, single-page (CRA, Vite, …) or Node server app; dev servers are never the start."""
    pkg = read_json(root / "package.json")
    deps = {**as_dict(pkg.get("devDependencies")), **as_dict(pkg.get("dependencies"))}
    scripts = as_dict(pkg.get("scripts"))
    pm = manager(root, pkg)
    build = pm.run("build") if "build" in scripts else None
    start_script = str(scripts.get("start") or "")
    dev_start = bool(_DEV_SERVER.search(start_script.strip()))
    if "next" in deps:
        found = _next(root, pm, scripts)
    elif "react-scripts" in deps:
        found = Detection(
            "create-react-app",
            "node",
            "found react-scripts in package.json dependencies; build/ is served as static files",
            pm.install,
            build or "react-scripts build",
            static_dir="build",
        )
    elif "vite" in deps and (not start_script or dev_start):
        found = Detection(
            "vite",
            "node",
            "found vite in package.json dependencies; dist/ is served as static files",
            pm.install,
            build or "vite build",
            static_dir="dist",
        )
    elif start_script and not dev_start:
        found = Detection(
            "node", "node", "found a start script in package.json", pm.install, build, pm.run("start"), 3000
        )
    elif build:
        why = (
            f"its start script runs a development server ({start_script})" if dev_start else "no start script"
        )
        found = Detection(
            "static-spa",
            "node",
            f"found a build script and {why} in package.json; dist/ is served as static files",
            pm.install,
            build,
            static_dir="dist",
        )
    elif start_given:
        found = Detection("node", "node", "found package.json", pm.install, port=3000)
    else:
        raise DetectError(
            'package.json has no start script and no build script; add a "start" '
            "script, a Procfile with a web: line, or set build.start in autostack.yml"
        )
    version = node_version(root, pkg)
    return Detection(
        found.framework,
        "node",
        f"{found.reason}; installs with {pm.reason}",
        found.install,
        found.build,
        found.start,
        found.port,
        found.static_dir,
        pm.lockfiles,
        version[0] if version else None,
        version[1] if version else None,
        found.notes,
        found.build_cache,
    )
