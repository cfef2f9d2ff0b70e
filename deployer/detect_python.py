"""Python apps: package manager, requested Python, framework and its production server (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deployer.detect_base import DetectError, Detection, as_dict, first_line, read_toml

_ENTRYPOINTS = (
    "main.py",
    "app.py",
    "server.py",
    "wsgi.py",
    "asgi.py",
    "app/main.py",
    "app/__init__.py",
    "src/main.py",
    "src/app.py",
)
# preferred order when an app depends on several
_ASGI_SERVERS = ("uvicorn", "hypercorn", "granian", "daphne")
WORKERS = "${WEB_CONCURRENCY:-2}"


@dataclass(frozen=True, slots=True)
class _Project:
    deps: str  # every dependency name the project files mention, lower case
    install: str
    lockfiles: tuple[str, ...]
    source: str  # the file the dependencies were read from
    manager: str  # pip | uv | poetry | pipenv


def _pyproject(root: Path) -> dict[str, object]:
    path = root / "pyproject.toml"
    return read_toml(path) if path.is_file() else {}


def _project(root: Path) -> _Project:
    meta = _pyproject(root)
    project, poetry = as_dict(meta.get("project")), as_dict(as_dict(meta.get("tool")).get("poetry"))
    names = [str(d) for d in project.get("dependencies", []) or []]
    names += list(as_dict(poetry.get("dependencies")))
    if (root / "Pipfile").is_file():
        names += list(as_dict(read_toml(root / "Pipfile").get("packages")))
    if (root / "requirements.txt").is_file():
        names.append((root / "requirements.txt").read_text(errors="replace"))
    deps = "\n".join(names).lower()
    if (root / "uv.lock").is_file():
        return _Project(
            deps,
            "uv sync --frozen --no-dev --no-install-project",
            ("pyproject.toml", "uv.lock"),
            "pyproject.toml",
            "uv",
        )
    if (root / "poetry.lock").is_file():
        return _Project(
            deps,
            "poetry install --no-root --only main --no-interaction",
            ("pyproject.toml", "poetry.lock"),
            "pyproject.toml",
            "poetry",
        )
    if (root / "Pipfile.lock").is_file():
        return _Project(deps, "pipenv install --deploy", ("Pipfile", "Pipfile.lock"), "Pipfile", "pipenv")
    if (root / "requirements.txt").is_file():
        return _Project(
            deps, "pip install -r requirements.txt", ("requirements.txt",), "requirements.txt", "pip"
        )
    if (root / "Pipfile").is_file():
        return _Project(deps, "pipenv install", ("Pipfile",), "Pipfile", "pipenv")
    return _Project(deps, "pip install .", ("pyproject.toml",), "pyproject.toml", "pip")


def python_version(root: Path) -> tuple[str, str] | None:
    """(requested version, file) from .python-version, runtime.txt, Pipfile or pyproject.toml."""
    if line := first_line(root / ".python-version"):
        return line.removeprefix("python-"), ".python-version"
    if line := first_line(root / "runtime.txt"):
        return line.removeprefix("python-"), "runtime.txt"
    if (root / "Pipfile").is_file():
        requires = as_dict(read_toml(root / "Pipfile").get("requires"))
        if version := requires.get("python_full_version") or requires.get("python_version"):
            return str(version), "Pipfile"
    meta = _pyproject(root)
    if spec := as_dict(meta.get("project")).get("requires-python"):
        return str(spec), "pyproject.toml requires-python"
    poetry = as_dict(as_dict(as_dict(meta.get("tool")).get("poetry")).get("dependencies"))
    if isinstance(poetry.get("python"), str):
        return str(poetry["python"]), "pyproject.toml tool.poetry python"
    return None


def _has(deps: str, name: str) -> bool:
    return re.search(rf"(^|[\s\"',\[]){re.escape(name)}\b", deps) is not None


def _app_object(root: Path, classes: str, factory: bool) -> str | None:
    """`module:variable` of the first entry point that builds one of `classes`."""
    for name in _ENTRYPOINTS:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        module = name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        if match := re.search(rf"^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:{classes})\(", text, re.MULTILINE):
            return f"{module}:{match.group(1)}"
        if factory and re.search(r"^def create_app\(", text, re.MULTILINE):
            return f"'{module}:create_app()'"
    return None


def _with_server(project: _Project, server: str) -> tuple[str, tuple[str, ...]]:
    """The install command, plus the server when the project does not list it."""
    if _has(project.deps, server):
        return project.install, ()
    pip = "uv pip install" if project.manager == "uv" else "python -m pip install"
    return (
        f"{project.install} && {pip} {server}",
        (f"{server} is not in {project.source}; installing it for production",),
    )


def _django(root: Path, project: _Project) -> Detection:
    manage = (root / "manage.py").read_text(errors="replace")
    match = re.search(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+?)\.settings", manage)
    package = match.group(1) if match else next((p.parent.name for p in root.glob("*/wsgi.py")), "config")
    settings = " ".join(
        p.read_text(errors="replace")
        for p in [*root.glob(f"{package}/settings.py"), *root.glob(f"{package}/settings/*.py")]
    )
    install, notes = _with_server(project, "gunicorn")
    reason = f"found django in {project.source} and manage.py"
    build = None
    if "STATIC_ROOT" in settings or "whitenoise" in settings.lower():
        build = "python manage.py collectstatic --noinput"
        reason += "; collectstatic runs because the settings set STATIC_ROOT or use whitenoise"
    else:
        notes += ("collectstatic skipped: the settings set no STATIC_ROOT and do not use whitenoise",)
    start = f"gunicorn {package}.wsgi --bind 127.0.0.1:$PORT --workers {WORKERS}"
    return Detection("django", "python", reason, install, build, start, 8000, notes=notes)


def _asgi(root: Path, project: _Project, framework: str) -> Detection:
    target = _app_object(root, "FastAPI|Starlette", factory=False) or "main:app"
    server = next((s for s in _ASGI_SERVERS if _has(project.deps, s)), "uvicorn")
    install, notes = _with_server(project, server)
    start = {
        "uvicorn": f"uvicorn {target} --host 127.0.0.1 --port $PORT --workers {WORKERS}",
        "hypercorn": f"hypercorn {target} --bind 127.0.0.1:$PORT --workers {WORKERS}",
        "granian": f"granian --interface asgi --host 127.0.0.1 --port $PORT --workers {WORKERS} {target}",
        "daphne": f"daphne -b 127.0.0.1 -p $PORT {target}",
    }[server]
    reason = f"found {framework} in {project.source}; served by {server}"
    return Detection(framework, "python", reason, install, None, start, 8000, notes=notes)


def _flask(root: Path, project: _Project) -> Detection:
    target = _app_object(root, "Flask", factory=True) or "app:app"
    install, notes = _with_server(project, "gunicorn")
    start = f"gunicorn {target} --bind 127.0.0.1:$PORT --workers {WORKERS}"
    reason = f"found flask in {project.source}; served by gunicorn"
    return Detection("flask", "python", reason, install, None, start, 8000, notes=notes)


def detect_python(root: Path, start_given: bool = False) -> Detection:
    """A Django, FastAPI/Starlette or Flask app, run by a production server.

    With `start_given` (build.start or a Procfile web: line) any other Python app is accepted.
    """
    project = _project(root)
    if _has(project.deps, "django") and (root / "manage.py").is_file():
        found = _django(root, project)
    elif _has(project.deps, "fastapi"):
        found = _asgi(root, project, "fastapi")
    elif _has(project.deps, "starlette"):
        found = _asgi(root, project, "starlette")
    elif _has(project.deps, "flask"):
        found = _flask(root, project)
    elif start_given:
        found = Detection("python", "python", f"found {project.source}", project.install, port=8000)
    else:
        raise DetectError(
            f"{project.source} names none of django, fastapi, starlette or flask; set build.start "
            "(and run.port) in autostack.yml, or add a Procfile with a web: line, to say how to start the app"
        )
    version = python_version(root)
    return Detection(
        found.framework,
        "python",
        found.reason,
        found.install,
        found.build,
        found.start,
        found.port,
        lockfiles=project.lockfiles,
        version=version[0] if version else None,
        version_source=version[1] if version else None,
        notes=found.notes,
    )
