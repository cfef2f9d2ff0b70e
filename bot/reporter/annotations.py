"""Annotations from recognisable build errors (pure): Python tracebacks, tsc, ESLint,
`npm ERR!`, pip resolution errors and `file:line:col` compiler output."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.github.api import Annotation

MAX_ANNOTATIONS = 50
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_PY_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_PY_ERROR = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):?\s*(?P<msg>.*)$")
_TSC_PAREN = re.compile(
    r"^(?P<path>[^\s()]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.+)$"
)
_TSC_PRETTY = re.compile(
    r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+) - error (?P<code>TS\d+): (?P<msg>.+)$"
)
_ESLINT_FILE = re.compile(r"^(?P<path>\S+\.(?:[cm]?[jt]sx?|vue|svelte))$")
_ESLINT_ROW = re.compile(
    r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<level>error|warning)\s+(?P<msg>.+?)(?:\s{2,}(?P<rule>\S+))?$"
)
_COMPILER = re.compile(
    r"^(?P<path>\.{0,2}/?[\w./-]+\.\w+):(?P<line>\d+):(?:(?P<col>\d+):)?\s+"
    r"(?:(?P<level>error|warning):\s*)?(?P<msg>\S.*)$"
)
_NPM = re.compile(r"^npm (?:ERR!|error) (?P<msg>.*)$")
_PIP = re.compile(
    r"^ERROR: (?P<msg>(?:Could not find a version|No matching distribution|ResolutionImpossible"
    r"|Cannot install|Could not install).*)$"
)
_VENDORED = ("site-packages/", "dist-packages/", "node_modules/", "<frozen", "<string>", "/lib/python")


def _relative(path: str, roots: tuple[str, ...]) -> str | None:
    """The path relative to the repository, or None for library and unknown files."""
    path = path.strip()
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    if any(part in path for part in _VENDORED) or path.startswith(("/", "<")):
        return None
    return path.removeprefix("./")


class AnnotationParser:
    """Reads log lines one at a time and collects the errors it recognises."""

    def __init__(self, roots: Iterable[str] = ()) -> None:
        self._roots = tuple(roots)
        self._found: dict[tuple[str, int, str], Annotation] = {}
        self._frame: tuple[str, int] | None = None
        self._eslint_file: str | None = None
        self._npm: list[str] = []
        self.dropped = 0

    def _add(self, annotation: Annotation) -> None:
        key = (annotation.path, annotation.start_line, annotation.message)
        if key in self._found:
            return
        if len(self._found) >= MAX_ANNOTATIONS:
            self.dropped += 1
            return
        self._found[key] = annotation

    def feed(self, raw: str) -> None:
        """Take the next log line."""
        line = _ANSI.sub("", raw).rstrip()
        if match := _PY_FRAME.match(line):
            path = _relative(match["path"], self._roots)
            # Keep the innermost frame in the project's own code.
            if path is not None:
                self._frame = (path, int(match["line"]))
            return
        if self._frame is not None and (match := _PY_ERROR.match(line)):
            path, number = self._frame
            self._add(Annotation(path, number, match["msg"] or match["type"], title=match["type"]))
            self._frame = None
            return
        if match := _NPM.match(line):
            self._npm.append(match["msg"])
            return
        self._flush_npm()
        self._match_tools(line)

    def _match_tools(self, line: str) -> None:
        for pattern in (_TSC_PAREN, _TSC_PRETTY):
            if match := pattern.match(line):
                self._located(match["path"], match["line"], match["col"], match["msg"], match["code"])
                return
        if match := _ESLINT_FILE.match(line):
            self._eslint_file = match["path"]
            return
        if self._eslint_file and (match := _ESLINT_ROW.match(line)):
            level = "failure" if match["level"] == "error" else "warning"
            self._located(
                self._eslint_file, match["line"], match["col"], match["msg"], match["rule"], level=level
            )
            return
        if line.strip() == "":
            self._eslint_file = None
        if match := _PIP.match(line):
            self._add(Annotation("requirements.txt", 1, match["msg"], title="pip could not resolve"))
            return
        if match := _COMPILER.match(line):
            level = "warning" if match["level"] == "warning" else "failure"
            self._located(match["path"], match["line"], match["col"], match["msg"], None, level=level)

    def _located(
        self,
        path: str,
        line: str,
        col: str | None,
        message: str,
        title: str | None,
        *,
        level: str = "failure",
    ) -> None:
        relative = _relative(path, self._roots)
        if relative is None:
            return
        self._add(
            Annotation(
                relative,
                int(line),
                message.strip(),
                level=level,  # type: ignore[arg-type]
                title=title,
                start_column=int(col) if col else None,
            )
        )

    def _flush_npm(self) -> None:
        if not self._npm:
            return
        lines = [text for text in self._npm if text.strip()]
        self._npm = []
        if lines:
            message = "\n".join(lines[:20])
            self._add(Annotation("package.json", 1, message, title="npm failed"))

    def result(self) -> list[Annotation]:
        """Everything found so far, at most 50."""
        self._flush_npm()
        return list(self._found.values())


def parse_annotations(lines: Iterable[str], roots: Iterable[str] = ()) -> list[Annotation]:
    """Annotations for the build errors in these log lines."""
    parser = AnnotationParser(roots)
    for line in lines:
        parser.feed(line)
    return parser.result()
