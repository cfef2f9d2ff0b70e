"""Secret masking for anything AutoStack prints or sends: logs, check runs, comments, errors.

`Masker` replaces every form of every known secret (see `deployer.masking_forms`) in a text;
`LineMasker` does the same for a stream of lines, holding one line back so that a value
printed in two halves, or wrapped over two lines, is caught where the lines meet. Every value
a masker is built with is also remembered process-wide, so the server's own log
(`bot.logs`) masks whatever any deployment or report masks.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from deployer.masking_forms import MIN_SECRET_LENGTH, Form, forms

MASK = "•••"
_REMEMBERED_MAX = 4096

_remembered: dict[str, None] = {}
_remembered_lock = threading.Lock()
_remembered_masker: tuple[int, Masker] | None = None
_remembered_version = 0


def _values(secrets: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for value in secrets:
        for candidate in (value, value.strip()):
            if len(candidate) >= MIN_SECRET_LENGTH:
                found[candidate] = None
        # A multi-line value (a PEM key) shows up in logs one line at a time.
        if "\n" in value:
            found.update(
                (part.strip(), None) for part in value.splitlines() if len(part.strip()) >= MIN_SECRET_LENGTH
            )
    return list(found)


@dataclass(frozen=True, slots=True)
class _Shape:
    regex: re.Pattern[str]
    anchor: str
    # either half of the anchor survives any cut of a match into two lines
    halves: tuple[str, str]


def _shape(form: Form) -> _Shape:
    middle = len(form.anchor) // 2
    return _Shape(re.compile(form.regex), form.anchor, (form.anchor[:middle], form.anchor[middle:]))


class Masker:
    """Replaces each secret value, in any of its forms, with `•••` in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values = _values(secrets)
        found = sorted((form for value in self._values for form in forms(value)), key=lambda f: -f.longest)
        self._shapes = [_shape(form) for form in found]
        # the longest text a match can span: how much of a line's end can hold part of a split secret
        self.reach = max((form.longest for form in found), default=0)
        _remember(self._values)

    def __bool__(self) -> bool:
        return bool(self._shapes)

    def mask(self, text: str) -> str:
        """The text with every secret form replaced, including values split over two of its lines."""
        if not text:
            return text
        for shape in self._shapes:
            if shape.anchor in text:
                text = shape.regex.sub(MASK, text)
        if "\n" not in text or not self._shapes:
            return text
        lines = LineMasker(self)
        out = [done for line in text.split("\n") if (done := lines.feed(line)) is not None]
        last = lines.flush()
        return "\n".join([*out, last] if last is not None else out)

    def straddling(self, before: str, after: str) -> tuple[int, int, int]:
        """Where a secret spans the end of `before` and the start of `after`'s text.

        The next line may repeat a log prefix (`[app] `, a timestamp) or indent before going on;
        that is skipped. Returns (cut, start, end): mask `before[cut:]` and `after[start:end]`;
        (len(before), 0, 0) if none.
        """
        found = (len(before), 0, 0)
        if not self._shapes:
            return found
        offset = max(0, len(before) - self.reach + 1)
        tail = before[offset:]
        for skip in sorted({0, len(after) - len(after.lstrip()), _repeated_prefix(before, after)}):
            joined, boundary = tail + after[skip : skip + self.reach - 1], len(tail)
            for shape in self._shapes:
                first, second = shape.halves
                if first not in joined and second not in joined:
                    continue
                position = 0
                while (
                    match := shape.regex.search(joined, position)
                ) is not None and match.start() < boundary:
                    if match.end() > boundary:
                        cut = min(found[0], offset + match.start())
                        found = (cut, skip, max(found[2], skip + match.end() - boundary))
                    position = match.start() + 1
            if found[2]:
                return found
        return found


def _repeated_prefix(before: str, after: str) -> int:
    """How much of `after`'s start is a log prefix it shares with `before` (ends on a space)."""
    common = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    if common == 0:
        return 0
    # a timestamp shares only its first digits: take the rest of that word
    end = common if after[common - 1].isspace() else after.find(" ", common)
    if end < 0:
        return 0
    return len(after) - len(after[end:].lstrip())


class LineMasker:
    """Masks a stream of lines, holding one line back to see secrets split across two."""

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._held: str | None = None

    def use(self, masker: Masker) -> None:
        """Mask with `masker` from now on, the line already held included."""
        self._masker = masker

    @property
    def holding(self) -> bool:
        """True while a line waits for the next one (or for `flush`)."""
        return self._held is not None

    def feed(self, line: str) -> str | None:
        """Take the next line; give back the previous one, masked, or None at first."""
        if not self._masker:
            return line
        held, self._held = self._held, line
        if held is None:
            return None
        cut, start, end = self._masker.straddling(held, line)
        if end:
            self._held = line[:start] + MASK + line[end:]
            return self._masker.mask(held[:cut]) + MASK
        return self._masker.mask(held)

    def flush(self) -> str | None:
        """The held line, masked; None if there is none. The stream may go on afterwards."""
        held, self._held = self._held, None
        return None if held is None else self._masker.mask(held)


def _remember(values: list[str]) -> None:
    global _remembered_version
    with _remembered_lock:
        for value in values:
            if value not in _remembered:
                _remembered[value] = None
                _remembered_version += 1
        while len(_remembered) > _REMEMBERED_MAX:
            del _remembered[next(iter(_remembered))]


def remembered() -> Masker:
    """A masker for every secret any masker in this process was built with (the server log's)."""
    global _remembered_masker
    cached = _remembered_masker
    if cached is not None and cached[0] == _remembered_version:
        return cached[1]
    with _remembered_lock:
        version, values = _remembered_version, list(_remembered)
    masker = Masker(values)
    _remembered_masker = (version, masker)
    return masker
