"""Secret masking for anything AutoStack prints or sends: build logs, check runs, comments.

`Masker` replaces every known secret value in a text; `LineMasker` does the same for a stream
of log lines and also catches a value that a program's line wrapping split over two lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "•••"


def _patterns(secrets: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for value in secrets:
        if not value.strip():
            continue
        found.add(value)
        # A multi-line value (a PEM key) shows up in logs one line at a time.
        if "\n" in value:
            found.update(part.strip() for part in value.splitlines() if part.strip())
    # Longest first so a value is masked whole rather than around a shorter one inside it.
    return sorted(found, key=len, reverse=True)


class Masker:
    """Replaces each secret value with `•••` in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values = _patterns(secrets)
        self._regex = re.compile("|".join(map(re.escape, self._values))) if self._values else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def mask(self, text: str) -> str:
        """The text with every secret value replaced."""
        if self._regex is None or not text:
            return text
        return self._regex.sub(MASK, text)

    def straddling(self, before: str, after: str) -> tuple[int, int]:
        """Where a secret spans the end of `before` and the start of `after`.

        Returns (cut, keep): mask `before[cut:]` and `after[:keep]`; (len(before), 0) if none.
        """
        cut, keep = len(before), 0
        joined = before + after
        for value in self._values:
            lowest = max(0, len(before) - len(value) + 1)
            start = joined.find(value, lowest)
            while 0 <= start < len(before):
                end = start + len(value)
                if end > len(before):
                    cut = min(cut, start)
                    keep = max(keep, end - len(before))
                start = joined.find(value, start + 1)
        return cut, keep


class LineMasker:
    """Masks a stream of lines, holding one line back to see secrets split across two."""

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._held: str | None = None

    def feed(self, line: str) -> str | None:
        """Take the next line; give back the previous one, masked, or None at first."""
        if not self._masker:
            return line
        held, self._held = self._held, line
        if held is None:
            return None
        cut, keep = self._masker.straddling(held, line)
        if keep:
            held = held[:cut] + MASK
            self._held = MASK + line[keep:]
        return self._masker.mask(held)

    def flush(self) -> str | None:
        """The last held line, masked, once the stream ends."""
        held, self._held = self._held, None
        return None if held is None else self._masker.mask(held)
