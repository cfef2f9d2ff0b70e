"""Secret masking: whole values, values split across two lines, multi-line values."""

from __future__ import annotations

import pytest

from deployer.masking import MASK, LineMasker, Masker

SECRET = "hunter2-very-secret"
PEM = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD\nqH7Lp9Xr2mYzN0fQ1w==\n-----END KEY-----"


@pytest.mark.parametrize(
    ("secrets", "text", "expected"),
    [
        ([SECRET], f"password={SECRET}", f"password={MASK}"),
        ([SECRET], f"{SECRET} and {SECRET}", f"{MASK} and {MASK}"),
        ([SECRET], "nothing here", "nothing here"),
        (["abc", "abcdef"], "x abcdef y", f"x {MASK} y"),
        (["", "   "], "keep  spaces", "keep  spaces"),
        ([], SECRET, SECRET),
        ([PEM], f"key:\n{PEM}\n", f"key:\n{MASK}\n"),
        ([PEM], "MIIBOgIBAAJBAKj34GkxFhD printed alone", f"{MASK} printed alone"),
        (["a.b*c"], "regex a.b*c and aXbbc", f"regex {MASK} and aXbbc"),
    ],
)
def test_masker(secrets, text, expected):
    assert Masker(secrets).mask(text) == expected


def _stream(secrets: list[str], lines: list[str]) -> list[str]:
    masker = LineMasker(Masker(secrets))
    out = [masked for line in lines if (masked := masker.feed(line)) is not None]
    last = masker.flush()
    return [*out, last] if last is not None else out


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a", SECRET, "b"], ["a", MASK, "b"]),
        ([f"token {SECRET[:7]}", f"{SECRET[7:]} ok"], [f"token {MASK}", f"{MASK} ok"]),
        ([f"x{SECRET[:-1]}", f"{SECRET[-1]}y"], [f"x{MASK}", f"{MASK}y"]),
        (["hunter", "unrelated"], ["hunter", "unrelated"]),
        ([], []),
        (PEM.splitlines(), [MASK] * 4),
    ],
)
def test_line_masker(lines, expected):
    assert _stream([SECRET, PEM], lines) == expected


def test_line_masker_without_secrets_passes_lines_straight_through():
    masker = LineMasker(Masker())
    assert masker.feed("a") == "a"
    assert masker.flush() is None
