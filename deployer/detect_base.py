"""What detection returns and the small readers every stack uses (pure)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DetectError(ValueError):
    """Nothing recognisable in the tree; the message says what was looked for and how to fix it."""


@dataclass(frozen=True, slots=True)
class Detection:
    """How to run one app: commands, port, runtime and why this framework was chosen."""

    framework: str
    runtime: str  # docker | node | python | go | rust | java | shell | static
    reason: str
    install: str | None = None
    build: str | None = None
    start: str | None = None
    port: int = 8080
    static_dir: str | None = None
    lockfiles: tuple[str, ...] = ()
    version: str | None = None  # the runtime version the repository asks for: 3.12, >=18, 1.22
    version_source: str | None = None  # the file that asked: .python-version, package.json, go.mod
    notes: tuple[str, ...] = ()  # decisions the build log should state (a server added, …)
    build_cache: tuple[str, ...] = ()  # folders kept from one build to the next (.next/cache)
    release: str | None = None  # the Procfile's release: command


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or DetectError naming the file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DetectError(f"{path.name} is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {}


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML document from `path`, or DetectError naming the file."""
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise DetectError(f"{path.name} is not valid TOML: {exc}") from None


def as_dict(value: object) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (malformed manifests are common)."""
    return value if isinstance(value, dict) else {}


def first_line(path: Path) -> str | None:
    """The first line of a version file that is not blank or a comment."""
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            return line
    return None


def procfile(root: Path) -> dict[str, str]:
    """The process types of a Procfile (`web: gunicorn app:app`); empty when there is none."""
    path = root / "Procfile"
    if not path.is_file():
        return {}
    kinds: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+)\s*:\s*(.+?)\s*$", line)
        if match and not line.lstrip().startswith("#"):
            kinds.setdefault(match.group(1), match.group(2))
    return kinds


def procfile_web(root: Path) -> str | None:
    """The Procfile's `web:` command, if it has one."""
    return procfile(root).get("web")
