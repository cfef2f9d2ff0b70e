"""What the intake stores beside a delivery's raw payload: its action, installation and repository,
each checked against its column so one bad delivery is refused alone instead of failing the
batch it would have been committed with.

Only those three are decoded. A full parse built and freed a few hundred objects per delivery
(a push's repository alone has about ninety keys), which measured ~10 % of the intake's CPU; the
typed decode below still checks the whole body is well-formed JSON but skips everything else.
Bodies of an unexpected shape (an `id` that is a string, say) fall back to the full parse, so the
result is the same either way.

The payload itself is stored as bytes (bytea), so nothing inside it, `\\u0000` included, can be
refused by the database; only the columns decoded here and the two headers are checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

# GitHub's payloads nest under 20 levels; only user JSON (repository_dispatch's client_payload,
# workflow inputs) goes deeper. 512 is half orjson's own limit of 1024, which the worker's full
# parse meets, and leaves the intake's decode (msgspec, which counts against Python's recursion
# limit of 1000 together with the server's own stack frames) a margin of ~400 frames.
MAX_DEPTH = 512
# the deliveries table's String(64) columns: delivery_id, event, action
MAX_NAME = 64
# BIGINT is signed 64-bit, and GitHub's ids start at 1
ID_RANGE = range(1, 2**63)

_EVENT = re.compile(r"[a-z0-9_]{1,64}", re.ASCII)
# GitHub sends GUIDs; other senders (the CLI's `receive`, the bench) use short ASCII ids
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
_OPEN = ord("(")
_COLLAPSE_PASSES = 8


class BadDelivery(ValueError):
    """A delivery the intake refuses with 400; the message names what was wrong."""


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """The indexed columns of a stored delivery."""

    action: str | None
    installation_id: int | None
    repository_id: int | None


class _Ref(msgspec.Struct):
    id: int | None = None


class _Envelope(msgspec.Struct):
    action: str | None = None
    installation: _Ref | None = None
    repository: _Ref | None = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode


def check_headers(event: str, delivery_id: str) -> None:
    """Raise BadDelivery unless X-GitHub-Event and X-GitHub-Delivery fit their columns."""
    if not event or not delivery_id:
        raise BadDelivery("X-GitHub-Event and X-GitHub-Delivery are required")
    if not _EVENT.fullmatch(event):
        raise BadDelivery(f"X-GitHub-Event must be 1 to {MAX_NAME} of a-z, 0-9 and _")
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise BadDelivery(f"X-GitHub-Delivery must be 1 to {MAX_NAME} of A-Z, a-z, 0-9 and ._:-")


def delivery_facts(body: bytes) -> DeliveryFacts:
    """The checked facts of a JSON-object body; BadDelivery names what is wrong with it."""
    if too_deep(body):
        raise BadDelivery(f"body is nested deeper than {MAX_DEPTH} levels")
    try:
        envelope = _decode_envelope(body)
    except msgspec.ValidationError:
        return _checked(_facts_of(json_object(body)))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise BadDelivery("body is not a JSON object") from None
    # the typed decode does not check the UTF-8 of the strings it skips
    if not body.isascii():
        try:
            body.decode()
        except UnicodeDecodeError:
            raise BadDelivery("body is not a JSON object (invalid UTF-8)") from None
    return _checked(
        DeliveryFacts(
            action=envelope.action,
            installation_id=envelope.installation.id if envelope.installation else None,
            repository_id=envelope.repository.id if envelope.repository else None,
        )
    )


def too_deep(body: bytes) -> bool:
    """True when arrays and objects nest deeper than MAX_DEPTH (brackets in strings not counted)."""
    # each [ or { opens at most one level: a body with few of them (a push has ~60) needs no scan
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    # outside strings only: drop the escapes, and every other part between quotes is a string
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(_AS_PARENS, _NOT_BRACKET)
    # each pass takes out the innermost pairs, exactly one level, in C: a wide body (an
    # installation's thousand repositories) is mostly gone before the loop below
    passes = 0
    while passes < _COLLAPSE_PASSES and (collapsed := brackets.replace(b"()", b"")) != brackets:
        brackets, passes = collapsed, passes + 1
    depth = passes
    for byte in brackets:
        depth += 1 if byte == _OPEN else -1
        if depth > MAX_DEPTH:
            return True
    return False


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body parsed in full, or None when it is not a JSON object."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _checked(facts: DeliveryFacts | None) -> DeliveryFacts:
    if facts is None:
        raise BadDelivery("body is not a JSON object")
    if facts.action is not None:
        if len(facts.action) > MAX_NAME:
            raise BadDelivery(f"action longer than {MAX_NAME} characters")
        # PostgreSQL text cannot hold NUL
        if "\x00" in facts.action:
            raise BadDelivery("action contains a NUL character (\\u0000)")
    for field, value in (("installation.id", facts.installation_id), ("repository.id", facts.repository_id)):
        if value is not None and value not in ID_RANGE:
            raise BadDelivery(f"{field} out of range: must be 1 to {ID_RANGE.stop - 1}")
    return facts


def _facts_of(payload: dict[str, Any] | None) -> DeliveryFacts | None:
    if payload is None:
        return None
    action = payload.get("action")
    return DeliveryFacts(
        action=action if isinstance(action, str) else None,
        installation_id=_object_id(payload.get("installation")),
        repository_id=_object_id(payload.get("repository")),
    )


def _object_id(obj: Any) -> int | None:
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
