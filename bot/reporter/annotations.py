"""Annotations from recognisable build errors (pure): Python tracebacks, tsc, ESLint,
`npm ERR!`, pip resolution errors and `file:line:col` compiler output. The patterns live in
deployer/error_lines.py, which the failure summary uses to quote the same errors."""

from __future__ import annotations

from collections.abc import Iterable

from bot.github.api import Annotation, AnnotationLevel
from deployer.error_lines import (
    ANSI,
    COMPILER,
    ESLINT_FILE,
    ESLINT_ROW,
    NPM,
    PIP,
    PY_ERROR,
    PY_FRAME,
    TSC_PAREN,
    TSC_PRETTY,
)

MAX_ANNOTATIONS = 50
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
        line = ANSI.sub("", raw).rstrip()
        if match := PY_FRAME.match(line):
            path = _relative(match["path"], self._roots)
            # Keep the innermost frame in the project's own code.
            if path is not None:
                self._frame = (path, int(match["line"]))
            return
        if self._frame is not None and (match := PY_ERROR.match(line)):
            path, number = self._frame
            self._add(Annotation(path, number, match["msg"] or match["type"], title=match["type"]))
            self._frame = None
            return
        if match := NPM.match(line):
            self._npm.append(match["msg"])
            return
        self._flush_npm()
        self._match_tools(line)

    def _match_tools(self, line: str) -> None:
        for pattern in (TSC_PAREN, TSC_PRETTY):
            if match := pattern.match(line):
                self._located(match["path"], match["line"], match["col"], match["msg"], match["code"])
                return
        if match := ESLINT_FILE.match(line):
            self._eslint_file = match["path"]
            return
        if self._eslint_file and (match := ESLINT_ROW.match(line)):
            level: AnnotationLevel = "failure" if match["level"] == "error" else "warning"
            self._located(
                self._eslint_file, match["line"], match["col"], match["msg"], match["rule"], level=level
            )
            return
        if line.strip() == "":
            self._eslint_file = None
        if match := PIP.match(line):
            self._add(Annotation("requirements.txt", 1, match["msg"], title="pip could not resolve"))
            return
        if match := COMPILER.match(line):
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
        level: AnnotationLevel = "failure",
    ) -> None:
        relative = _relative(path, self._roots)
        if relative is None:
            return
        self._add(
            Annotation(
                relative,
                int(line),
                message.strip(),
                level=level,
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
