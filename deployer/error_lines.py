"""The first line of a build or app log that says why it failed (pure, no I/O).

The patterns are the ones the check-run annotations use (bot/reporter/annotations.py), so the
failure summary quotes the error the annotations point at: pip resolution errors, `npm ERR!`,
Python tracebacks (their last line), tsc, ESLint, Go/javac `file:line:` output, Cargo,
Maven and Gradle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
PY_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
PY_ERROR = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)):?\s*(?P<msg>.*)$")
TSC_PAREN = re.compile(
    r"^(?P<path>[^\s()]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.+)$"
)
TSC_PRETTY = re.compile(
    r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+) - error (?P<code>TS\d+): (?P<msg>.+)$"
)
ESLINT_FILE = re.compile(r"^(?P<path>\S+\.(?:[cm]?[jt]sx?|vue|svelte))$")
ESLINT_ROW = re.compile(
    r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<level>error|warning)\s+(?P<msg>.+?)(?:\s{2,}(?P<rule>\S+))?$"
)
COMPILER = re.compile(
    r"^(?P<path>\.{0,2}/?[\w./-]+\.\w+):(?P<line>\d+):(?:(?P<col>\d+):)?\s+"
    r"(?:(?P<level>error|warning):\s*)?(?P<msg>\S.*)$"
)
NPM = re.compile(r"^npm (?:ERR!|error) (?P<msg>.*)$")
PIP = re.compile(
    r"^ERROR: (?P<msg>(?:Could not find a version|No matching distribution|ResolutionImpossible"
    r"|Cannot install|Could not install|Ignored the following versions|Package '[^']+' requires"
    r" a different Python).*)$"
)
_PIP_OTHER = re.compile(r"^ERROR: (?!Exception:)\S")
_CARGO = re.compile(r"^error(?:\[E\d+\])?: (?P<msg>.+)$")
_MAVEN = re.compile(r"^\[ERROR\] (?P<msg>\S.*)$")
_GO_TOOL = re.compile(r"^go: (?!downloading |finding |extracting |found |upgraded |added )\S")
_GENERIC = re.compile(
    r"^(?:(?:[A-Z]\w*)?Error|Type error|Module not found|error|fatal)(?:\[\w+\])?:\s*\S"
    r"|^error\s+\S"
    r"|^\S*sh: (?:\d+: )?.+: (?:command )?not found$"
)
# Lines that say a tool failed without saying why: quoted only when nothing better came before.
_VAGUE = re.compile(
    r"^npm (?:ERR!|error) (?:$|code |errno |syscall |path |dest |command |cwd |signal |workspace "
    r"|location |in workspace|at location|A complete log|Log files|Lifecycle script|Error: command failed"
    r"|Failed at the|This is probably|\s)"
    r"|^error: (?:could not compile|aborting due to)"
    r"|^\[ERROR\] (?:Failed to execute goal|COMPILATION ERROR|To see the full|Re-run Maven"
    r"|For more information|-> \[Help)"
    r"|^Failed to compile\.?$|^Build failed\b|^ELIFECYCLE\b"
)
_WARNING = re.compile(r"^\w*Warning\b")


@dataclass(frozen=True, slots=True)
class ErrorLine:
    """A log line that names a failure's cause: its number in the log and what to quote."""

    number: int
    text: str


class FirstError:
    """Reads numbered log lines and keeps the first one that names an error."""

    def __init__(self) -> None:
        self.found: ErrorLine | None = None
        self.vague: ErrorLine | None = None
        self._traceback = False
        self._eslint_file: str | None = None
        self._gradle_why = False

    def feed(self, number: int, raw: str) -> None:
        """Take the next line and its number in the log."""
        if self.found is not None:
            return
        line = ANSI.sub("", raw).rstrip()
        quote = self._match(line)
        if quote is None:
            return
        if _VAGUE.match(line):
            self.vague = self.vague or ErrorLine(number, quote)
        else:
            self.found = ErrorLine(number, quote)

    @property
    def result(self) -> ErrorLine | None:
        """The first clear error line, else the first vague one, else None."""
        return self.found or self.vague

    def _match(self, line: str) -> str | None:
        if line.startswith("Traceback (most recent call last):"):
            self._traceback = True
            return None
        if self._traceback:
            if line[:1].isspace() or not line:
                return None
            self._traceback = False  # the traceback's last line: the exception itself
            return line if PY_ERROR.match(line) else None
        if self._gradle_why:
            if line.strip():
                self._gradle_why = False
                return line.strip()
            return None
        if line.strip() == "* What went wrong:":
            self._gradle_why = True
            return None
        if ESLINT_FILE.match(line):
            self._eslint_file = line
            return None
        if self._eslint_file and (match := ESLINT_ROW.match(line)):
            if match["level"] != "error":
                return None
            rule = f" ({match['rule']})" if match["rule"] else ""
            return f"{self._eslint_file}:{match['line']}:{match['col']}: {match['msg'].strip()}{rule}"
        if not line.strip():
            self._eslint_file = None
            return None
        return line if self._is_error(line) else None

    @staticmethod
    def _is_error(line: str) -> bool:
        if NPM.match(line) or PIP.match(line) or _PIP_OTHER.match(line):
            return True
        if TSC_PAREN.match(line) or TSC_PRETTY.match(line) or _CARGO.match(line):
            return True
        if _MAVEN.match(line) or _GO_TOOL.match(line):
            return True
        if (match := COMPILER.match(line)) and match["level"] != "warning":
            return not _WARNING.match(match["msg"])
        return bool(_GENERIC.match(line) or PY_ERROR.match(line))


def first_error(lines: Iterable[tuple[int, str]]) -> ErrorLine | None:
    """The first line of these (number, text) pairs that names an error, if any does."""
    finder = FirstError()
    for number, text in lines:
        finder.feed(number, text)
        if finder.found is not None:
            break
    return finder.result


def strip_server_paths(text: str, deployment_id: int, roots: Sequence[str] = ()) -> str:
    """`text` without the server's folders: a deployment's source or build folder (any path
    ending in /<id>/src/ or /<id>/app/) and the given roots (the data folder) are cut off."""
    own = re.compile(
        rf"(?<![\w.-])/(?:[^\s/:'\"()\[\]]+/)*?{deployment_id}/(?:src|app)(?:/|(?=[\s:'\"),]|$))"
    )
    text = own.sub("", text)
    for root in sorted((r.rstrip("/") for r in roots if r.strip("/")), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(root)}(?:/|(?=[\s:'\"),]|$))", "", text)
    return text
