"""The App's webhook delivery log (`/app/hook/deliveries`), modelled as GitHub keeps it: one entry
per attempt, newest first, cursor pagination in the Link header; a redelivery resends the same
payload under the same guid, signed with the webhook secret, and logs a new `redelivery` attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import Any

import httpx

from tests.github_standin.answers import Answer, iso, public
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State

MAX_PAGE = 100
HOOK_ID = 9000  # the App's webhook (one per App)


def record_attempt(
    state: State,
    event: str,
    payload: bytes,
    *,
    status_code: int,
    guid: str | None = None,
    delivered_at: float | None = None,
    redelivery: bool = False,
) -> dict[str, Any]:
    """Log an attempt as if GitHub had made it (and got `status_code`); returns the entry."""
    body = json.loads(payload)
    entry = {
        "id": state.next_id(),
        "guid": guid or str(uuid.uuid4()),
        "delivered_at": iso(delivered_at or time.time()),
        "redelivery": redelivery,
        "duration": 0.05,
        "status": _status_text(status_code),
        "status_code": status_code,
        "event": event,
        "action": body.get("action"),
        "installation_id": (body.get("installation") or {}).get("id"),
        "repository_id": (body.get("repository") or {}).get("id"),
        "throttled_at": None,
        "_at": delivered_at or time.time(),
        "_payload": payload,
    }
    with state.lock:
        state.hook_attempts.append(entry)
    return entry


def _status_text(status_code: int) -> str:
    if 200 <= status_code < 300:
        return "OK"
    return "failed to connect" if status_code == 0 else f"Invalid HTTP Response: {status_code}"


def _newest_first(state: State) -> list[dict[str, Any]]:
    return sorted(state.hook_attempts, key=lambda entry: (entry["_at"], entry["id"]), reverse=True)


def list_deliveries(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    try:
        per_page = int(query.get("per_page", "30"))
    except ValueError:
        return Answer(422, {"message": "per_page must be an integer"})
    per_page = max(1, min(per_page, MAX_PAGE))
    entries = _newest_first(state)
    status = query.get("status")
    if status == "success":
        entries = [e for e in entries if 200 <= e["status_code"] <= 399]
    elif status == "failure":
        entries = [e for e in entries if 400 <= e["status_code"] <= 599]
    elif status is not None:
        return Answer(422, {"message": f"status must be success or failure, not {status!r}"})
    start = 0
    cursor = query.get("cursor")
    if cursor is not None:
        ids = [e["id"] for e in entries]
        if not cursor.startswith("v1_") or not cursor[3:].isdigit() or int(cursor[3:]) not in ids:
            return Answer(400, {"message": "Invalid cursor"})
        start = ids.index(int(cursor[3:]))
    page = entries[start : start + per_page]
    headers: dict[str, str] = {}
    if start + per_page < len(entries):
        following = entries[start + per_page]["id"]
        extra = f"&status={status}" if status else ""
        headers["Link"] = (
            f'<https://api.github.com/app/hook/deliveries?per_page={per_page}&cursor=v1_{following}{extra}>; rel="next"'
        )
    return Answer(200, [public(e) for e in page], headers)


def _find(state: State, delivery_id: str) -> dict[str, Any] | None:
    return next((e for e in state.hook_attempts if str(e["id"]) == delivery_id), None)


def get_delivery(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    entry = _find(state, params["delivery_id"])
    if entry is None:
        return Answer(404, {"message": "Not Found"})
    data = public(entry)
    data.update(
        url=state.webhook_url or "",
        request={"headers": _headers(state, entry), "payload": json.loads(entry["_payload"])},
        response={"headers": {}, "payload": None},
    )
    return Answer(200, data)


def redeliver(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    entry = _find(state, params["delivery_id"])
    if entry is None:
        return Answer(404, {"message": "Not Found"})
    if entry["_at"] < time.time() - 3 * 86400:
        return Answer(422, {"message": "Cannot redeliver deliveries older than 3 days"})
    # GitHub answers at once and sends the delivery afterwards
    threading.Thread(target=_resend, args=(state, entry), daemon=True).start()
    return Answer(202, {})


def _headers(state: State, entry: dict[str, Any]) -> dict[str, str]:
    secret = (state.webhook_secret or "").encode()
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/standin",
        "X-GitHub-Event": entry["event"],
        "X-GitHub-Delivery": entry["guid"],
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(state.app_id),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret, entry["_payload"], hashlib.sha256).hexdigest(),
    }


def _resend(state: State, entry: dict[str, Any]) -> None:
    status = 0
    if state.webhook_url:
        try:
            status = httpx.post(
                state.webhook_url, content=entry["_payload"], headers=_headers(state, entry), timeout=10
            ).status_code
        except httpx.HTTPError:
            status = 0
    record_attempt(
        state, entry["event"], entry["_payload"], status_code=status, guid=entry["guid"], redelivery=True
    )


def redeliveries(state: State) -> list[dict[str, Any]]:
    """The attempts made by redeliveries so far, oldest first."""
    with state.lock:
        return sorted((e for e in state.hook_attempts if e["redelivery"]), key=lambda e: e["_at"])
