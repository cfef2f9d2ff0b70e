"""One function per GitHub operation the stand-in serves; each answers with the documented
example shape, patched with what was asked, and refuses what GitHub would refuse."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State

STATUSES_PER_CONTEXT = 1000
DESCRIPTION_LIMIT = 140
BOT = {"login": "autostack[bot]", "id": 41898282, "type": "Bot"}


class Refusal(Exception):
    """GitHub would answer 422 with this message."""


@dataclass
class Answer:
    """A handler's answer."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None


def _iso(moment: float | None = None) -> str:
    return datetime.fromtimestamp(moment or time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}


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
    data.update(token=token, expires_at=_iso(expires))
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


def _check_output(body: dict[str, Any], current: dict[str, Any]) -> None:
    output = body.get("output")
    if output is None:
        return
    if "title" not in output or "summary" not in output:
        raise Refusal("output needs a title and a summary")
    for note in output.get("annotations", []):
        if "start_column" in note and note.get("start_line") != note.get("end_line"):
            raise Refusal("annotations: start_column needs start_line == end_line")
    current["output"].update(
        title=output["title"],
        summary=output["summary"],
        text=output.get("text"),
    )
    annotations = output.get("annotations", [])
    current["_annotations"].extend(annotations)
    current["output"]["annotations_count"] = len(current["_annotations"])


def create_check_run(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    run = spec.example(op, 201)
    number = state.next_id()
    run.update(
        id=number,
        name=body["name"],
        head_sha=body["head_sha"],
        external_id=body.get("external_id", ""),
        details_url=body.get("details_url"),
        status=body.get("status", "queued"),
        conclusion=body.get("conclusion"),
        started_at=body.get("started_at", _iso()),
        completed_at=body.get("completed_at"),
    )
    run["output"] = {
        "title": None,
        "summary": None,
        "text": None,
        "annotations_count": 0,
        "annotations_url": run["output"]["annotations_url"],
    }
    run["_repo"] = f"{params['owner']}/{params['repo']}"
    run["_annotations"] = []
    run["_actions"] = body.get("actions", [])
    run["_history"] = [run["status"]]
    _check_output(body, run)
    if body.get("conclusion"):
        run["status"] = "completed"
    state.check_runs[number] = run
    return Answer(201, _public(run))


def update_check_run(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    run = state.check_runs.get(int(params["check_run_id"]))
    if run is None:
        return Answer(404, {"message": "Not Found"})
    _check_output(body, run)
    for key in ("name", "details_url", "external_id", "started_at", "completed_at", "status"):
        if key in body:
            run[key] = body[key]
    if "conclusion" in body:
        run.update(conclusion=body["conclusion"], status="completed")
        run.setdefault("completed_at", _iso())
    if "actions" in body:
        run["_actions"] = body["actions"]
    if run["_history"][-1] != run["status"]:
        run["_history"].append(run["status"])
    return Answer(200, _public(run))


def create_status(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    context = body.get("context", "default")
    if len(state.statuses_for(params["sha"], context)) >= STATUSES_PER_CONTEXT:
        raise Refusal("This SHA and context has reached the maximum number of statuses.")
    status = spec.example(op, 201)
    status.update(
        id=state.next_id(),
        state=body["state"],
        context=context,
        description=body.get("description"),
        target_url=body.get("target_url"),
        created_at=_iso(),
        updated_at=_iso(),
    )
    status["_sha"] = params["sha"]
    state.statuses.append(status)
    return Answer(201, _public(status))


def create_deployment(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    deployment = spec.example(op, 201)
    number = state.next_id()
    environment = body.get("environment", "production")
    deployment.update(
        id=number,
        ref=body["ref"],
        sha=body["ref"],
        environment=environment,
        original_environment=environment,
        description=body.get("description"),
        transient_environment=body.get("transient_environment", False),
        production_environment=body.get("production_environment", environment == "production"),
        created_at=_iso(),
        updated_at=_iso(),
        task=body.get("task", "deploy"),
        payload=body.get("payload", {}),
    )
    deployment["_repo"] = f"{params['owner']}/{params['repo']}"
    deployment["_request"] = body
    state.deployments[number] = deployment
    state.deployment_statuses[number] = []
    return Answer(201, _public(deployment))


def list_deployments(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    found = [
        _public(d)
        for d in reversed(state.deployments.values())
        if d["_repo"] == repo and query.get("environment") in (None, d["environment"])
    ]
    return Answer(200, found)


def create_deployment_status(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    number = int(params["deployment_id"])
    if number not in state.deployments:
        return Answer(404, {"message": "Not Found"})
    if len(body.get("description", "")) > DESCRIPTION_LIMIT:
        raise Refusal("description is too long (maximum is 140 characters)")
    status = spec.example(op, 201)
    status.update(
        id=state.next_id(),
        state=body["state"],
        description=body.get("description", ""),
        environment_url=body.get("environment_url", ""),
        log_url=body.get("log_url", ""),
        target_url=body.get("log_url", ""),
        environment=state.deployments[number]["environment"],
        created_at=_iso(),
        updated_at=_iso(),
    )
    state.deployment_statuses[number].append(status)
    return Answer(201, status)


def list_deployment_statuses(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    number = int(params["deployment_id"])
    if number not in state.deployments:
        return Answer(404, {"message": "Not Found"})
    return Answer(200, list(reversed(state.deployment_statuses[number])))


def _comment(
    state: State, spec: OpenAPI, repo: str, number: int, body: str, user: dict[str, Any]
) -> dict[str, Any]:
    op = spec.operation("POST", "/repos/o/r/issues/1/comments")
    assert op is not None
    comment = spec.example(op, 201)
    comment_id = state.next_id()
    comment.update(id=comment_id, body=body, created_at=_iso(), updated_at=_iso())
    comment["user"].update(user)
    comment.update(_repo=repo, _number=number, _edits=0)
    state.comments[comment_id] = comment
    return comment


def add_comment(
    state: State, repo: str, number: int, body: str, login: str = "octocat", user_type: str = "User"
) -> int:
    """Put a comment on a pull request as someone else (for tests)."""
    from tests.github_standin.openapi import github_openapi

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
    return Answer(200, [_public(c) for c in found[(page - 1) * per_page : page * per_page]])


def create_comment(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    comment = _comment(state, spec, repo, int(params["issue_number"]), body["body"], BOT)
    return Answer(201, _public(comment))


def update_comment(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    comment = state.comments.get(int(params["comment_id"]))
    if comment is None:
        return Answer(404, {"message": "Not Found"})
    comment.update(body=body["body"], updated_at=_iso(), _edits=comment["_edits"] + 1)
    return Answer(200, _public(comment))


def create_reaction(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    if int(params["comment_id"]) not in state.comments:
        return Answer(404, {"message": "Not Found"})
    reaction = spec.example(op, 201)
    reaction.update(id=state.next_id(), content=body["content"], user=BOT | reaction["user"])
    reaction["_comment_id"] = int(params["comment_id"])
    state.reactions.append(reaction)
    return Answer(201, _public(reaction))


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


def tarball(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    # Like GitHub: a redirect to a short-lived download host (here on the same server).
    return Answer(302, redirect=f"/_codeload/{params['owner']}/{params['repo']}/{params['ref']}")


def contents(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    text = state.files.get((repo, params["path"], query.get("ref")))
    if text is None:
        return Answer(404, {"message": "Not Found"})
    data = {
        "type": "file",
        "encoding": "base64",
        "name": params["path"].rsplit("/", 1)[-1],
        "path": params["path"],
        "size": len(text.encode()),
        "content": base64.b64encode(text.encode()).decode(),
    }
    return Answer(200, data)


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


def manifest_conversion(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    manifest = state.manifest_codes.pop(params["code"], None)
    if manifest is None:
        return Answer(404, {"message": "Not Found"})
    data = spec.example(op, 201)
    data.update(
        id=state.app_id,
        name=manifest.get("name", "AutoStack"),
        client_id="Iv1.standin" + secrets.token_hex(4),
        client_secret=secrets.token_hex(20),
        webhook_secret=secrets.token_hex(20),
        pem=state.private_pem or data.get("pem"),
    )
    state.oauth_clients[data["client_id"]] = data["client_secret"]
    return Answer(201, data)


Handler = Callable[[State, OpenAPI, Operation, dict[str, str], Any, dict[str, str]], Answer]
HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "/app/installations/{installation_id}/access_tokens"): access_token,
    ("GET", "/app/installations/{installation_id}"): installation,
    ("POST", "/repos/{owner}/{repo}/check-runs"): create_check_run,
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): update_check_run,
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"): create_status,
    ("POST", "/repos/{owner}/{repo}/deployments"): create_deployment,
    ("GET", "/repos/{owner}/{repo}/deployments"): list_deployments,
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"): create_deployment_status,
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"): list_deployment_statuses,
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): list_comments,
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): create_comment,
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): update_comment,
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"): create_reaction,
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"): permission,
    ("GET", "/repos/{owner}/{repo}/tarball/{ref}"): tarball,
    ("GET", "/repos/{owner}/{repo}/contents/{path}"): contents,
    ("GET", "/user"): authenticated_user,
    ("GET", "/user/memberships/orgs/{org}"): org_membership,
    ("POST", "/app-manifests/{code}/conversions"): manifest_conversion,
}
