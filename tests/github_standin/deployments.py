"""Commit statuses, deployments and deployment statuses, with GitHub's limits on each."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer, Refusal, iso, public
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State

STATUSES_PER_CONTEXT = 1000
DESCRIPTION_LIMIT = 140


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
        created_at=iso(),
        updated_at=iso(),
    )
    status["_sha"] = params["sha"]
    state.statuses.append(status)
    return Answer(201, public(status))


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
        created_at=iso(),
        updated_at=iso(),
        task=body.get("task", "deploy"),
        payload=body.get("payload", {}),
    )
    deployment["_repo"] = f"{params['owner']}/{params['repo']}"
    deployment["_request"] = body
    state.deployments[number] = deployment
    state.deployment_statuses[number] = []
    return Answer(201, public(deployment))


def list_deployments(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    found = [
        public(d)
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
        created_at=iso(),
        updated_at=iso(),
    )
    state.deployment_statuses[number].append(status)
    if body["state"] == "success" and body.get("auto_inactive", True):
        _auto_inactive(state, spec, op, number)
    return Answer(201, status)


def _auto_inactive(state: State, spec: OpenAPI, op: Operation, number: int) -> None:
    """GitHub's auto_inactive: prior deployments of the repository and environment that had a
    success get an inactive status, unless they are transient or production deployments
    (those the App must mark inactive itself)."""
    current = state.deployments[number]
    for other, deployment in state.deployments.items():
        if other >= number or deployment["_repo"] != current["_repo"]:
            continue
        if deployment["environment"] != current["environment"]:
            continue
        if deployment["transient_environment"] or deployment["production_environment"]:
            continue
        statuses = state.deployment_statuses[other]
        if statuses and statuses[-1]["state"] == "success":
            inactive = spec.example(op, 201)
            inactive.update(id=state.next_id(), state="inactive", description="", created_at=iso())
            statuses.append(inactive)


def list_deployment_statuses(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    number = int(params["deployment_id"])
    if number not in state.deployments:
        return Answer(404, {"message": "Not Found"})
    return Answer(200, list(reversed(state.deployment_statuses[number])))
