"""Runtime version requirements: parse what a repository asks for, pick a version that fits (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Version = tuple[int, ...]
_NUMBER = re.compile(r"\d+(?:\.\d+){0,2}")
# Node's LTS code names as .nvmrc writes them (lts/iron); lts/* means the newest
NODE_LTS = {"hydrogen": 18, "iron": 20, "jod": 22, "*": 22}
# files that name one version (`3.12`) rather than a range (`>=3.10,<3.13`)
_PINNED_SOURCES = (".python-version", "runtime.txt", ".nvmrc", ".node-version", "go.mod", "rust-toolchain")


@dataclass(frozen=True, slots=True)
class Requirement:
    """`minimum <= version < below`; `pinned` when the file names one release line (3.12, 20)."""

    language: str
    minimum: Version
    below: Version | None
    pinned: bool
    source: str

    @property
    def wanted(self) -> str:
        """The requested version as people write it: `>= 3.12`, `>= 3.10, < 3.13`."""
        text = ">= " + dotted(self.minimum)
        return text + (f", < {dotted(self.below)}" if self.below else "")

    def allows(self, version: Version) -> bool:
        """True when `version` meets the requirement."""
        head = version[: len(self.minimum)]
        if head < self.minimum:
            return False
        return self.below is None or version[: len(self.below)] < self.below


def dotted(version: Version) -> str:
    """(3, 12) → "3.12"."""
    return ".".join(str(part) for part in version)


def parse_version(text: str) -> Version | None:
    """The first dotted number in `text`: "v20.11.1" → (20, 11, 1); None when there is none."""
    match = _NUMBER.search(text)
    return tuple(int(part) for part in match.group().split(".")) if match else None


def _next(version: Version) -> Version:
    return (*version[:-1], version[-1] + 1)


def pinned(language: str, text: str, source: str) -> Requirement | None:
    """A file that names one version (.python-version 3.12, runtime.txt python-3.12.1, .nvmrc 20)."""
    version = parse_version(text)
    if version is None:
        return None
    return Requirement(language, version, None, True, source)


def ranged(language: str, text: str, source: str) -> Requirement | None:
    """A PEP 440 / npm / poetry range: `>=3.10,<3.13`, `^20`, `18.x`, `~=3.11`, `==3.12.*`, `20`."""
    minimum: Version | None = None
    below: Version | None = None
    exact = False
    for part in re.split(r"[,\s]+|\|\|", text.strip()):
        version = parse_version(part)
        if version is None:
            continue
        if part.startswith("<") and not part.startswith("<="):
            below = version
        elif part.startswith("<="):
            below = _next(version)
        elif part.startswith("^"):
            minimum, below = version, (version[0] + 1,)
        elif part.startswith("~="):
            minimum, below = version, _next(version[:-1]) if len(version) > 1 else None
        elif part.startswith("~"):
            minimum, below = version, _next(version[:2]) if len(version) > 1 else (version[0] + 1,)
        elif part.startswith(">"):
            minimum = version if minimum is None else max(minimum, version)
        else:  # 20, 18.x, ==3.12.*: one release line
            minimum, below, exact = version, _next(version), True
    if minimum is None:
        return None
    return Requirement(language, minimum, below, exact, source)


def pick(requirement: Requirement, available: Iterable[Version]) -> Version | None:
    """The installed version to use: the requested line when present, else the newest that fits."""
    fits = sorted(v for v in available if requirement.allows(v))
    if not fits:
        return None
    same_line = [v for v in fits if v[: len(requirement.minimum)] == requirement.minimum]
    if requirement.pinned and same_line:
        return same_line[-1]
    return fits[-1]


def image_tag(requirement: Requirement | None, known: Iterable[Version], default: Version) -> str:
    """The base-image version: the pinned text itself, else the newest known release that fits."""
    if requirement is None:
        return dotted(default)
    if requirement.pinned:
        return dotted(requirement.minimum)
    fits = [v for v in known if requirement.allows(v)]
    return dotted(max(fits)) if fits else dotted(requirement.minimum)


def requirement(language: str, version: str | None, source: str | None) -> Requirement | None:
    """The Requirement a detected version text means, read by the kind of file it came from."""
    if version is None or source is None:
        return None
    parse = pinned if source.startswith(_PINNED_SOURCES) else ranged
    return parse(language, version, source)
