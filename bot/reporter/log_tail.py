"""The tail of a build log, kept within GitHub's check-run text limit (pure, no I/O)."""

from __future__ import annotations

import re
from collections import deque

# GitHub caps check-run text at 65,535 characters; counting UTF-8 bytes stays under it for any
# alphabet, and the margin leaves room for the note and the code fence.
GITHUB_TEXT_LIMIT = 65_535
TAIL_BUDGET = 60_000
LONGEST_LINE = 2_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_BACKTICKS = re.compile(r"`+")


def strip_ansi(text: str) -> str:
    """The text without terminal colour and cursor codes."""
    return _ANSI.sub("", text)


def _size(line: str) -> int:
    return len(line.encode()) + 1


class LogTail:
    """Keeps the last lines of a log within a byte budget and counts the lines it let go."""

    def __init__(self, budget: int = TAIL_BUDGET, longest_line: int = LONGEST_LINE) -> None:
        self._budget = budget
        self._longest = longest_line
        self._lines: deque[str] = deque()
        self._size = 0
        self.total = 0
        self.cut = 0

    def append(self, line: str) -> None:
        """Add one line (colour codes removed, very long lines shortened)."""
        clean = strip_ansi(line).rstrip("\r\n")
        if len(clean) > self._longest:
            clean = f"{clean[: self._longest]}… ({len(clean) - self._longest:,} characters cut)"
        self._lines.append(clean)
        self._size += _size(clean)
        self.total += 1
        while self._size > self._budget and self._lines:
            self._size -= _size(self._lines.popleft())
            self.cut += 1

    @property
    def lines(self) -> list[str]:
        """The lines kept, oldest first."""
        return list(self._lines)


def _fence(lines: list[str]) -> str:
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)


def render_log_text(lines: list[str], cut: int, log_url: str) -> str:
    """The check run's text: a note on cut lines and the tail in a code block, within limits."""
    kept = list(lines)
    while True:
        note = (
            f"Showing the last {len(kept):,} lines; {cut:,} earlier lines cut. [Full log]({log_url})\n\n"
            if cut
            else f"[Full log]({log_url})\n\n"
        )
        fence = _fence(kept)
        text = f"{note}{fence}text\n" + "\n".join(kept) + f"\n{fence}"
        if len(text.encode()) <= GITHUB_TEXT_LIMIT or not kept:
            return text
        # Only reached with a budget set above the limit; drop from the top until it fits.
        drop = max(1, len(kept) // 10)
        kept = kept[drop:]
        cut += drop
