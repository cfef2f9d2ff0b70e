"""Framework detection: what a source tree is and how to install, build and start it (pure)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

_LOOKED_FOR = "Dockerfile, package.json, requirements.txt, pyproject.toml, go.mod or index.html"
_PY_ENTRYPOINTS = (
    "main.py",
    "app.py",
    "server.py",
    "wsgi.py",
    "asgi.py",
    "app/main.py",
    "src/main.py",
    "src/app.py",
)


class DetectError(ValueError):
    """Nothing recognisable in the tree; the message says what was looked for and how to fix it."""


@dataclass(frozen=True, slots=True)
class Detection:
    """How to run one app: commands, port, runtime and why this framework was chosen."""

    framework: str
    runtime: str  # docker | node | python | go | static
    reason: str
    install: str | None = None
    build: str | None = None
    start: str | None = None
    port: int = 8080
    static_dir: str | None = None
    lockfiles: tuple[str, ...] = ()


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DetectError(f"{path.name} is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {}


def _node(root: Path) -> Detection:
    pkg = _read_json(root / "package.json")
    deps = {**_dict(pkg.get("devDependencies")), **_dict(pkg.get("dependencies"))}
    scripts = _dict(pkg.get("scripts"))
    if (root / "package-lock.json").is_file():
        install, locks = "npm ci --no-audit --no-fund", ("package-lock.json",)
    else:
        install, locks = "npm install --no-audit --no-fund", ("package.json",)
    build = "npm run build" if "build" in scripts else None
    if "next" in deps:
        return Detection(
            "nextjs",
            "node",
            "found next in package.json dependencies",
            install,
            build or "npx next build",
            "npx next start -p $PORT",
            3000,
            None,
            locks,
        )
    if "vite" in deps and "start" not in scripts:
        return Detection(
            "vite",
            "node",
            "found vite in package.json dependencies",
            install,
            build or "npx vite build",
            None,
            8080,
            "dist",
            locks,
        )
    if "start" in scripts:
        return Detection(
            "node",
            "node",
            "found a start script in package.json",
            install,
            build,
            "npm start",
            3000,
            None,
            locks,
        )
    if build:
        return Detection(
            "static-spa",
            "node",
            "found a build script and no start script in package.json",
            install,
            build,
            None,
            8080,
            "dist",
            locks,
        )
    raise DetectError(
        'package.json has no start script and no build script; add a "start" '
        "script or set build.start in autostack.yml"
    )


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _python_deps(root: Path) -> tuple[str, str, tuple[str, ...]]:
    """(dependency text, install command, lockfiles) of a Python project."""
    if (root / "requirements.txt").is_file():
        return (
            (root / "requirements.txt").read_text().lower(),
            "pip install -r requirements.txt",
            ("requirements.txt",),
        )
    text = (root / "pyproject.toml").read_text()
    try:
        meta = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DetectError(f"pyproject.toml is not valid TOML: {exc}") from None
    deps = " ".join(meta.get("project", {}).get("dependencies", []))
    deps += " " + " ".join(meta.get("tool", {}).get("poetry", {}).get("dependencies", {}))
    if (root / "uv.lock").is_file():
        return deps.lower(), "uv sync --frozen --no-install-project", ("pyproject.toml", "uv.lock")
    if (root / "poetry.lock").is_file():
        return deps.lower(), "poetry install --no-root --no-interaction", ("pyproject.toml", "poetry.lock")
    return deps.lower(), "pip install .", ("pyproject.toml",)


def _module_defining(root: Path, pattern: str) -> str | None:
    for name in _PY_ENTRYPOINTS:
        path = root / name
        if path.is_file() and re.search(pattern, path.read_text(errors="replace")):
            return name.removesuffix(".py").replace("/", ".")
    return None


def _python(root: Path) -> Detection:
    deps, install, locks = _python_deps(root)
    has = {
        name
        for name in ("django", "fastapi", "flask", "uvicorn")
        if re.search(rf"(^|[\s\"',\[]){name}\b", deps)
    }
    source = locks[0]
    if "django" in has and (root / "manage.py").is_file():
        return Detection(
            "django",
            "python",
            f"found django in {source} and manage.py",
            install,
            None,
            "python manage.py runserver 127.0.0.1:$PORT --noreload",
            8000,
            None,
            locks,
        )
    if "fastapi" in has:
        module = _module_defining(root, r"FastAPI\(") or "main"
        return Detection(
            "fastapi",
            "python",
            f"found fastapi in {source}",
            install,
            None,
            f"uvicorn {module}:app --host 127.0.0.1 --port $PORT",
            8000,
            None,
            locks,
        )
    if "flask" in has:
        module = _module_defining(root, r"Flask\(") or "app"
        return Detection(
            "flask",
            "python",
            f"found flask in {source}",
            install,
            None,
            f"flask --app {module} run --host 127.0.0.1 --port $PORT",
            8000,
            None,
            locks,
        )
    raise DetectError(
        f"{source} names none of django, fastapi or flask; set build.start "
        "(and run.port) in autostack.yml to say how to start the app"
    )


def detect(root: Path) -> Detection:
    """Detect the framework of the tree at `root`, or raise DetectError saying what was missing."""
    if (root / "Dockerfile").is_file():
        return Detection("docker", "docker", "found a Dockerfile", port=8080)
    if (root / "package.json").is_file():
        return _node(root)
    if (root / "requirements.txt").is_file() or (root / "pyproject.toml").is_file():
        return _python(root)
    if (root / "go.mod").is_file():
        locks = ("go.mod", "go.sum") if (root / "go.sum").is_file() else ("go.mod",)
        return Detection(
            "go", "go", "found go.mod", "go mod download", "go build -o app .", "./app", 8080, None, locks
        )
    for folder in (".", "public"):
        if (root / folder / "index.html").is_file():
            where = "index.html" if folder == "." else "public/index.html"
            return Detection(
                "static", "static", f"found {where} and no build files", static_dir=folder, port=8080
            )
    raise DetectError(
        f"could not tell how to run this app: looked for {_LOOKED_FOR} "
        "in the app folder; add one of them, or set build.start and run.port in "
        "autostack.yml"
    )
