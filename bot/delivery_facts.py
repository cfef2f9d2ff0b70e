"""What the intake stores beside a delivery's raw payload: its action, installation and repository.

Only those three are decoded. A full parse built and freed a few hundred objects per delivery
(a push's repository alone has about ninety keys), which measured ~10 % of the intake's CPU; the
typed decode below still checks the whole body is well-formed JSON but skips everything else.
Bodies of an unexpected shape (an `id` that is a string, say) fall back to the full parse, so the
result is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import orjson


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


def delivery_facts(body: bytes) -> DeliveryFacts | None:
    """The facts of a JSON-object body, or None when the body is not a JSON object (or not UTF-8)."""
    try:
        envelope = _decode_envelope(body)
    except msgspec.ValidationError:
        return _facts_of(json_object(body))
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    # the typed decode does not check the UTF-8 of the strings it skips
    if not body.isascii():
        try:
            body.decode()
        except UnicodeDecodeError:
            return None
    return DeliveryFacts(
        action=envelope.action,
        installation_id=envelope.installation.id if envelope.installation else None,
        repository_id=envelope.repository.id if envelope.repository else None,
    )


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body parsed in full, or None when it is not a JSON object."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


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
