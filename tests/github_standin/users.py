"""Who someone is and what they may do: the signed-in user, org membership, repo permission."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State


def authenticated_user(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    data = spec.example(op, 200)
    data.update(login=params["_login"], id=state.users.get(params["_login"], 1))
    return Answer(200, data)


def org_membership(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    role = state.org_roles.get((params["org"], params["_login"]))
    if role is None:
        return Answer(404, {"message": "Not Found"})
    data = spec.example(op, 200)
    data.update(state="active", role=role)
    data["organization"]["login"] = params["org"]
    data["user"]["login"] = params["_login"]
    return Answer(200, data)


def permission(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    role = state.permissions.get((repo, params["username"]))
    if role is None:
        return Answer(404, {"message": "Not Found"})
    data = spec.example(op, 200)
    folded = {"maintain": "write", "triage": "read"}.get(role, role)
    data.update(permission=folded, role_name=role)
    data["user"].update(login=params["username"], role_name=role)
    return Answer(200, data)
