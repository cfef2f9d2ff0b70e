"""githubkit's typed webhook models, where a payload parses into one."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

log = logging.getLogger("autostack.webhooks")


def typed_event(event: str, payload: dict[str, Any]) -> Any:
    """The githubkit model of this delivery, or None when githubkit has none or it does not parse."""
    # imported here so the web process, which never parses webhook models, stays small
    from githubkit.webhooks import parse_obj

    try:
        return parse_obj(event, payload)  # type: ignore[call-overload]
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        log.debug("no typed model for %s: %s", event, exc.__class__.__name__)
        return None
