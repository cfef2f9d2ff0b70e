"""`paths:` globs of a monorepo app: checked, compiled and matched against changed files (pure).

Patterns are relative to the repository root and use `/` between folders: `*` and `?` stay
within one folder, `**` as a whole segment spans any number of folders, `[abc]` / `[!abc]`
match one character of a class, a trailing `/` means everything below that folder and a
leading `!` excludes what it matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


class GlobError(ValueError):
    """A `paths:` pattern that cannot be used; the message says what is wrong with it."""


def _segment(segment: str, pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            if segment.startswith("**", i):
                raise GlobError(f"{pattern!r}: ** must be a whole folder name, as in api/**")
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                raise GlobError(f"{pattern!r}: [ opens a character class that is never closed")
            body = segment[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise GlobError(f"{pattern!r}: empty character class []")
            escaped = re.escape(body).replace(r"\-", "-")
            out.append(f"[{'^/' if negate else ''}{escaped}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression of one pattern (without its `!`), or GlobError saying why not."""
    if not pattern.strip():
        raise GlobError("an empty pattern matches nothing; remove it or write a path like api/**")
    if "\\" in pattern:
        raise GlobError(f"{pattern!r}: use / between folders (backslashes are not allowed)")
    if pattern.startswith("/"):
        raise GlobError(f"{pattern!r}: patterns are relative to the repository root; drop the leading /")
    if pattern.endswith("/"):
        pattern += "**"
    segments = pattern.split("/")
    if any(part in ("", ".", "..") for part in segments):
        raise GlobError(f"{pattern!r}: empty, . and .. folder names are not allowed")
    regex = ""
    for index, part in enumerate(segments):
        last = index == len(segments) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _segment(part, pattern) + ("" if last else "/")
    return re.compile(regex + r"\Z")


def check_glob(pattern: str) -> str:
    """The pattern unchanged when it is usable (a leading `!` allowed), else GlobError."""
    compile_glob(pattern.removeprefix("!"))
    return pattern


@dataclass(frozen=True, slots=True)
class PathFilter:
    """Which changed files concern an app: any `include` pattern and no `exclude` one."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str]) -> PathFilter:
        """Split `paths:` into included and `!`-excluded patterns."""
        listed = list(patterns)
        return cls(
            tuple(p for p in listed if not p.startswith("!")),
            tuple(p[1:] for p in listed if p.startswith("!")),
        )

    def matches(self, path: str) -> bool:
        """Whether a changed file (a repository-relative path) concerns the app."""
        if not any(compile_glob(p).match(path) for p in self.include):
            return False
        return not any(compile_glob(p).match(path) for p in self.exclude)

    def first_match(self, paths: Iterable[str]) -> str | None:
        """The first changed file that concerns the app, None when none does."""
        return next((path for path in paths if self.matches(path)), None)


def inside_repo(root: str) -> str:
    """An app's `root` as a normalised folder inside the repository, or GlobError saying why not."""
    if "\\" in root:
        raise GlobError(f"{root!r}: use / between folders (backslashes are not allowed)")
    parts = [part for part in root.split("/") if part not in ("", ".")]
    if root.startswith("/") or ".." in parts:
        raise GlobError(f"{root!r} is outside the repository; expected a folder inside it such as apps/web")
    return "/".join(parts) or "."
