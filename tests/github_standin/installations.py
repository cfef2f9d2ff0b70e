"""The GitHub App's own endpoints: creation from a manifest, its installations and their tokens."""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.github_standin.answers import Answer, iso
from tests.github_standin.manifests import manifest_errors, refusal_body
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State


def access_token(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    installation = int(params["installation_id"])
    if installation not in state.installations:
        return Answer(404, {"message": "Not Found"})
    token = "ghs_" + secrets.token_urlsafe(27)
    expires = time.time() + state.token_ttl
    state.tokens[token] = (installation, expires)
    data = spec.example(op, 201)
    data.update(token=token, expires_at=iso(expires))
    return Answer(201, data)


def installation(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    number = int(params["installation_id"])
    if number not in state.installations:
        return Answer(404, {"message": "Not Found"})
    data = spec.example(op, 200)
    data["id"] = number
    data["account"]["login"] = state.installations[number]
    return Answer(200, data)


def manifest_conversion(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    manifest = state.manifest_codes.pop(params["code"], None)
    if manifest is None:
        return Answer(404, {"message": "Not Found"})
    errors = manifest_errors(manifest, spec)
    if errors:
        state.violations.append(f"POST /app-manifests/{{code}}/conversions: {'; '.join(errors)}")
        return Answer(422, refusal_body(errors))
    data = spec.example(op, 201)
    # metadata: read comes with every App that has any repository permission
    permissions = {"metadata": "read", **manifest.get("default_permissions", {})}
    data.update(
        id=state.app_id,
        name=manifest.get("name", "AutoStack"),
        permissions=permissions,
        events=list(manifest.get("default_events", [])),
        client_id="Iv1.standin" + secrets.token_hex(4),
        client_secret=secrets.token_hex(20),
        webhook_secret=secrets.token_hex(20),
        pem=state.private_pem or data.get("pem"),
    )
    state.oauth_clients[data["client_id"]] = data["client_secret"]
    return Answer(201, data)
