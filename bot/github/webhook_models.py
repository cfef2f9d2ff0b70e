"""githubkit's typed webhook models, where a payload parses into one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

log = logging.getLogger("autostack.webhooks")


@dataclass(frozen=True, slots=True)
class TypedEvent:
    """githubkit's model of a delivery, or None with the reason there is none."""

    model: Any
    problem: str | None = None


def typed_event(event: str, payload: dict[str, Any]) -> TypedEvent:
    """The githubkit model of this delivery; never raises (events githubkit does not know,
    GHES-only ones among them, and payloads its models refuse get a model of None)."""
    # imported here so the web process, which never parses webhook models, stays small
    from githubkit.exception import WebhookTypeNotFound
    from githubkit.webhooks import parse_obj

    try:
        return TypedEvent(parse_obj(event, payload))
    except WebhookTypeNotFound:
        return TypedEvent(None, f"githubkit has no model of the event {event!r}")
    except (ValidationError, KeyError, ValueError, TypeError, RecursionError) as exc:
        log.debug("no typed model for %s: %s", event, exc.__class__.__name__)
        return TypedEvent(
            None, f"githubkit's model of {event!r} does not parse it ({exc.__class__.__name__})"
        )
