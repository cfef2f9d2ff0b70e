"""The shapes a secret takes in output: as typed, JSON-escaped, URL-quoted, and base64'd.

Each secret becomes a few regular expressions. The "text" form matches the value with any mix
of JSON escapes (`\\"`, `\\\\`, `\\/`, `\\n`, `\\u00e9`, doubly escaped too) and URL quoting (`%2F`,
`%2f`, `+` for a space) character by character, so one expression covers plain, `json.dumps`,
`quote` and `quote_plus` output. The base64 forms are the "stable cores": a secret inside a
larger base64'd blob shifts by 0, 1 or 2 bytes against the 3-byte groups, and only the
characters fed by the secret's own bits are the same whatever surrounds it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

# Values shorter than this are not masked: "true", "3000" or "prod" would black out half the log,
# and eight characters is the shortest credential commonly issued (PINs are not secrets here).
MIN_SECRET_LENGTH = 8

# Written as is by every JSON and URL encoder; `-._~` too by most, but some escape those as well.
_VERBATIM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_JSON_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_B64_CHAR = "[A-Za-z0-9+/_-]"
_B64_ALPHABETS = {
    "+": (r"(?:[+\-]|%2[Bb])", 3),
    "/": (r"(?:[/_]|\\/|%2[Ff])", 3),
}


@dataclass(frozen=True, slots=True)
class Form:
    """One regular expression for one shape of a secret, and the longest text it can match."""

    regex: str
    longest: int
    # a piece every match contains verbatim, so a quick `in` tells most texts need no regex
    anchor: str


def _hex(byte: int) -> str:
    """`%2f` and `%2F` alike."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in f"{byte:02X}")


def _json_units(char: str) -> list[int]:
    """The UTF-16 code units a `\\uXXXX` escape of `char` is written as."""
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _char_atom(char: str) -> tuple[str, int]:
    """A regex for one character in any of its escaped or quoted spellings, and its longest."""
    if char in _VERBATIM:
        return re.escape(char), 1
    spellings = {re.escape(char): len(char)}
    short = _JSON_SHORT.get(char)
    if short is not None:
        spellings[re.escape(short)] = len(short)
        doubled = "".join(_JSON_SHORT[c] if c in '"\\' else c for c in short)  # JSON inside JSON
        spellings[re.escape(doubled)] = len(doubled)
    units = _json_units(char)
    spellings["".join(r"\\u" + _hex(u >> 8) + _hex(u & 0xFF) for u in units)] = 6 * len(units)
    spellings["".join(r"\\\\u" + _hex(u >> 8) + _hex(u & 0xFF) for u in units)] = 7 * len(units)
    utf8 = char.encode()
    spellings["".join("%" + _hex(b) for b in utf8)] = 3 * len(utf8)
    if char == " ":
        spellings[r"\+"] = 1
    return "(?:" + "|".join(sorted(spellings, key=len, reverse=True)) + ")", max(spellings.values())


def text_form(value: str) -> Form:
    """The value as typed, JSON-escaped or URL-quoted, in any mix."""
    atoms = [_char_atom(char) for char in value]
    return Form("".join(a for a, _ in atoms), sum(n for _, n in atoms), _longest_run(value, _VERBATIM))


def base64_cores(value: str) -> list[str]:
    """The base64 characters a value encodes to whatever bytes precede it (3 alignments)."""
    data = value.encode()
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode()
        first = -(-8 * shift // 6)  # the first character made only of the value's bits
        end = 8 * (shift + len(data)) // 6
        cores.append(encoded[first:end])
    return cores


def base64_form(core: str) -> Form:
    """A base64 core in the standard or URL-safe alphabet (`+/` or `-_`), padding after."""
    regex, longest = [], 0
    for char in core:
        atom, width = _B64_ALPHABETS.get(char, (char, 1))
        regex.append(atom)
        longest += width
    # the neighbours carry a few of the secret's bits, and padding ends it: mask them with the core
    anchor = _longest_run(core, frozenset(core) - set(_B64_ALPHABETS))
    return Form(f"{_B64_CHAR}?{''.join(regex)}{_B64_CHAR}?={{0,2}}", longest + 4, anchor)


def _longest_run(text: str, verbatim: frozenset[str]) -> str:
    """The longest stretch of `text` made only of characters that are always written as is."""
    runs = re.split("[^" + "".join(map(re.escape, sorted(verbatim))) + "]+", text) if verbatim else [""]
    return max(runs, key=len)


def forms(value: str) -> list[Form]:
    """Every form of one secret value (none if it is too short to be told from ordinary text)."""
    if len(value) < MIN_SECRET_LENGTH:
        return []
    return [text_form(value), *(base64_form(core) for core in base64_cores(value))]
