"""Issue and pull-request comments and their reactions, plus a way for tests to comment."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer, iso, public
from tests.github_standin.openapi import OpenAPI, Operation, github_openapi
from tests.github_standin.state import State

BOT = {"login": "autostack[bot]", "id": 41898282, "type": "Bot"}


def _comment(
    state: State, spec: OpenAPI, repo: str, number: int, body: str, user: dict[str, Any]
) -> dict[str, Any]:
    op = spec.operation("POST", "/repos/o/r/issues/1/comments")
    assert op is not None
    comment = spec.example(op, 201)
    comment_id = state.next_id()
    comment.update(id=comment_id, body=body, created_at=iso(), updated_at=iso())
    comment["user"].update(user)
    comment.update(_repo=repo, _number=number, _edits=0)
    state.comments[comment_id] = comment
    return comment


def add_comment(
    state: State, repo: str, number: int, body: str, login: str = "octocat", user_type: str = "User"
) -> int:
    """Put a comment on a pull request as someone else (for tests)."""
    comment = _comment(
        state, github_openapi(), repo, number, body, {"login": login, "type": user_type, "id": 583231}
    )
    return int(comment["id"])


def list_comments(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    found = state.comments_on(repo, int(params["issue_number"]))
    per_page = min(int(query.get("per_page", 30)), 100)
    page = int(query.get("page", 1))
    return Answer(200, [public(c) for c in found[(page - 1) * per_page : page * per_page]])


def create_comment(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    comment = _comment(state, spec, repo, int(params["issue_number"]), body["body"], BOT)
    return Answer(201, public(comment))


def update_comment(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    comment = state.comments.get(int(params["comment_id"]))
    if comment is None:
        return Answer(404, {"message": "Not Found"})
    comment.update(body=body["body"], updated_at=iso(), _edits=comment["_edits"] + 1)
    return Answer(200, public(comment))


def create_reaction(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    if int(params["comment_id"]) not in state.comments:
        return Answer(404, {"message": "Not Found"})
    reaction = spec.example(op, 201)
    reaction.update(id=state.next_id(), content=body["content"], user=BOT | reaction["user"])
    reaction["_comment_id"] = int(params["comment_id"])
    state.reactions.append(reaction)
    return Answer(201, public(reaction))
