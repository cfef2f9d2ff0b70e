"""Framework detection: what a source tree is and how to install, build and start it (pure).

The start command comes from, in order: `build.start` in autostack.yml, the `web:` line of a
Procfile, then the framework's production default; the stack modules supply the defaults.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from deployer.detect_base import DetectError, Detection, procfile, procfile_web
from deployer.detect_node import detect_node
from deployer.detect_python import detect_python
from deployer.detect_stacks import detect_go, detect_java, detect_rust, detect_shell, detect_static

_LOOKED_FOR = (
    "Dockerfile, package.json, requirements.txt, pyproject.toml, Pipfile, go.mod, Cargo.toml, "
    "pom.xml, build.gradle, Procfile or index.html"
)
_PYTHON_FILES = ("requirements.txt", "pyproject.toml", "Pipfile")

__all__ = ["DetectError", "Detection", "detect"]


def _stack(root: Path, start_given: bool) -> Detection | None:
    if (root / "package.json").is_file():
        return detect_node(root, start_given)
    if any((root / name).is_file() for name in _PYTHON_FILES):
        return detect_python(root, start_given)
    if (root / "go.mod").is_file():
        return detect_go(root)
    if (root / "Cargo.toml").is_file():
        return detect_rust(root)
    if any((root / name).is_file() for name in ("pom.xml", "build.gradle", "build.gradle.kts")):
        return detect_java(root)
    return None


def detect(root: Path, start: str | None = None) -> Detection:
    """Detect the app at `root`; `start` is build.start from autostack.yml, which always wins.

    Raises DetectError saying what was looked for when nothing is recognisable and no start
    command was given.
    """
    return dataclasses.replace(_detect(root, start), release=procfile(root).get("release"))


def _detect(root: Path, start: str | None) -> Detection:
    if start is None and (root / "Dockerfile").is_file():
        return Detection("docker", "docker", "found a Dockerfile", port=8080)
    web = procfile_web(root)
    found = _stack(root, start is not None or web is not None)
    if found is None and start is None and web is None:
        found = detect_static(root)
        if found is None:
            raise DetectError(
                f"could not tell how to run this app: looked for {_LOOKED_FOR} "
                "in the app folder; add one of them, or set build.start and run.port in "
                "autostack.yml"
            )
    if found is None:
        found = detect_shell(web or "", "Procfile") if start is None else detect_shell(start, "autostack.yml")
    if start is not None:
        note = (
            " (the Dockerfile is not used because build.start is set)"
            if (root / "Dockerfile").is_file()
            else ""
        )
        return dataclasses.replace(found, start=start, static_dir=None, reason=found.reason + note)
    if web is not None and found.framework != "procfile":
        return dataclasses.replace(
            found, start=web, static_dir=None, reason=f"{found.reason}; start command from Procfile web:"
        )
    return found
