"""Secret masking: every form a secret is printed in, whole, split over lines, in streams.

The encoded forms are computed here with base64, json and urllib, never with the product's
helpers, so a wrong encoding in `deployer.masking_forms` cannot agree with itself.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import urllib.parse

import pytest

from bot.logs import stream_handler
from deployer.masking import MASK, LineMasker, Masker
from deployer.masking_forms import MIN_SECRET_LENGTH

SECRET = "hunter2-very-secret"
# quotes, a backslash, a slash, a space, a plus, non-ASCII: every escaping rule has work to do
ODD = 'p@ss "w\\rd"/ü+é 9f3b'
PEM = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD\nqH7Lp9Xr2mYzN0fQ1w==\n-----END KEY-----"


def b64(data: bytes, *, urlsafe: bool = False, padded: bool = True) -> str:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    return text if padded else text.rstrip("=")


def encoded_forms(secret: str) -> dict[str, str]:
    """Each way a program commonly prints `secret`, computed with the standard library."""
    raw = secret.encode()
    forms = {
        "plain": secret,
        "json": json.dumps(secret)[1:-1],
        "json-ascii-false": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json-in-json": json.dumps(json.dumps(secret))[1:-1],
        "quote": urllib.parse.quote(secret, safe=""),
        "quote-slash-safe": urllib.parse.quote(secret),
        "quote_plus": urllib.parse.quote_plus(secret),
        "quote-lower-hex": re.sub(
            "%[0-9A-F]{2}", lambda m: m[0].lower(), urllib.parse.quote(secret, safe="")
        ),
    }
    # unicode escapes of every non-alphanumeric character, as Go and JavaScript encoders do
    forms["json-u-escapes"] = "".join(
        c if c.isalnum() and c.isascii() else f"\\u{ord(c):04x}" for c in secret
    )
    for urlsafe in (False, True):
        for padded in (True, False):
            name = f"base64-{'url' if urlsafe else 'std'}-{'pad' if padded else 'nopad'}"
            forms[name] = b64(raw, urlsafe=urlsafe, padded=padded)
            # the secret inside a larger encoded blob, at each of the three byte alignments
            for shift in (1, 2, 3):
                forms[f"{name}-in-blob-{shift}"] = b64(
                    b"{" * shift + raw + b"}tail", urlsafe=urlsafe, padded=padded
                )
    return forms


def leaks(secret: str, text: str) -> list[str]:
    """Which recognisable pieces of `secret` the text still shows."""
    raw = secret.encode()
    needles = {secret, secret[: len(secret) // 2 + 1], secret[len(secret) // 2 :]}
    needles |= {
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
    }
    for shift in range(3):
        blob = b64(b"\0" * shift + raw, padded=False)
        # the characters made of the secret's bits alone, whatever precedes it
        core = blob[(8 * shift + 5) // 6 : (8 * (shift + len(raw))) // 6]
        needles |= {core, core.replace("+", "-").replace("/", "_")}
    return sorted(n for n in needles if n.lower() in text.lower())


@pytest.mark.parametrize("secret", [SECRET, ODD, "x" * 7 + "é"])
@pytest.mark.parametrize("form", sorted(encoded_forms(ODD)))
def test_every_form_is_masked_alone_and_inside_text(secret, form):
    printed = encoded_forms(secret)[form]
    masker = Masker([secret])
    for text in (printed, f"token={printed}&next=1", f'{{"value": "{printed}"}}'):
        masked = masker.mask(text)
        assert MASK in masked, (form, text)
        assert leaks(secret, masked) == [], (form, masked)


@pytest.mark.parametrize(
    ("secrets", "text", "expected"),
    [
        ([SECRET], f"password={SECRET}", f"password={MASK}"),
        ([SECRET], f"{SECRET} and {SECRET}", f"{MASK} and {MASK}"),
        ([SECRET], "nothing here", "nothing here"),
        (["abcdefgh", "abcdefghijk"], "x abcdefghijk y", f"x {MASK} y"),
        (["", "   "], "keep  spaces", "keep  spaces"),
        ([], SECRET, SECRET),
        ([PEM], f"key:\n{PEM}\n", f"key:\n{MASK}\n"),
        ([PEM], "MIIBOgIBAAJBAKj34GkxFhD printed alone", f"{MASK} printed alone"),
        (["a.b*c+d?e"], "regex a.b*c+d?e and aXbbcde", f"regex {MASK} and aXbbcde"),
        # a multi-line text (a check run's log tail) with a value wrapped over two of its lines
        ([SECRET], f"one\ntoken {SECRET[:9]}\n{SECRET[9:]} ok\nend", f"one\ntoken {MASK}\n{MASK} ok\nend"),
        # a value shorter than the minimum is not a secret: masking it would black out the log
        (["prod", "3000", "x" * (MIN_SECRET_LENGTH - 1)], "prod on 3000 xxxxxxx", "prod on 3000 xxxxxxx"),
        ([f"  {SECRET}\n"], f"pasted {SECRET} with a newline", f"pasted {MASK} with a newline"),
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
        ([SECRET[:1], SECRET[1:]], [MASK, MASK]),
        (["hunter", "unrelated"], ["hunter", "unrelated"]),
        ([], []),
        (PEM.splitlines(), [MASK] * 4),
        # the next line repeats a log prefix, a timestamp or an indent before the second half
        ([f"[app] key {SECRET[:9]}", f"[app] {SECRET[9:]} ok"], [f"[app] key {MASK}", f"[app] {MASK} ok"]),
        (
            [f"10:00:00.123 a {SECRET[:9]}", f"10:00:00.124 {SECRET[9:]}"],
            [f"10:00:00.123 a {MASK}", f"10:00:00.124 {MASK}"],
        ),
        ([f"key {SECRET[:9]}", f"    {SECRET[9:]}"], [f"key {MASK}", f"    {MASK}"]),
        # two halves, then a whole one, then halves again: each boundary is looked at
        ([SECRET[:5], SECRET[5:] + " " + SECRET[:12], SECRET[12:]], [MASK, f"{MASK} {MASK}", MASK]),
    ],
)
def test_line_masker(lines, expected):
    assert _stream([SECRET, PEM], lines) == expected


@pytest.mark.parametrize("form", sorted(encoded_forms(ODD)))
@pytest.mark.parametrize("cut", [1, 5, 11, -3, -1])
def test_every_form_split_over_two_lines_is_masked(form, cut):
    printed = encoded_forms(ODD)[form]
    first, second = f"out: {printed[:cut]}", f"{printed[cut:]} done"
    masked = _stream([ODD], [first, second])
    assert len(masked) == 2 and MASK in "".join(masked), (form, masked)
    assert leaks(ODD, "".join(masked)) == [], (form, masked)


def test_line_masker_without_secrets_passes_lines_straight_through():
    masker = LineMasker(Masker())
    assert masker.feed("a") == "a"
    assert masker.flush() is None


def test_server_log_masks_any_secret_a_masker_was_built_with(tmp_path):
    secret = "srv-log-canary-4b1d9e0c"
    Masker([secret])  # a deployment log or report elsewhere in the process knows it
    path = tmp_path / "server.log"
    logger = logging.getLogger("tests.masking")
    with path.open("w") as out:
        handler = stream_handler(out)
        logger.addHandler(handler)
        try:
            logger.warning("app said %s", json.dumps({"token": secret}), extra={"detail": secret})
            try:
                raise ValueError(f"bad key {base64.b64encode(secret.encode()).decode()}")
            except ValueError:
                logger.exception("crashed")
        finally:
            logger.removeHandler(handler)
    written = path.read_text()
    assert written.count("\n") == 2 and MASK in written
    assert leaks(secret, written) == []


def test_masking_a_log_line_is_fast():
    """A 200-character line, 20 secrets: the rate a busy build log needs, with room to spare."""
    secrets = [f"sk_live_{i:02d}_{'q7Zr2mYx' * 3}" for i in range(20)]
    masker, lines = (
        LineMasker(Masker(secrets)),
        [f"{i:06d} " + "GET /api/v1/items 200 in 12 ms; " * 6 for i in range(500)],
    )
    started = time.perf_counter()
    for line in lines * 4:
        masker.feed(line[:200])
    rate = 2000 / (time.perf_counter() - started)
    assert rate > 2000, f"{rate:.0f} lines/s"
