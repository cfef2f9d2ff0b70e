"""What a branch requires and how a commit's CI stands: rules for a branch, a branch with its
protection summary, a commit's check runs and its combined status. Answers take the
documented example's shape; the query must use only the operation's documented parameters,
and pages are cut as GitHub cuts them (`per_page` at most 100)."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer, Refusal, iso, public
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State

MAX_PER_PAGE = 100


def _page(spec: OpenAPI, op: Operation, query: dict[str, str], items: list[Any]) -> list[Any]:
    """The page of `items` the query asks for, refusing parameters the operation lacks."""
    item = spec.spec["paths"][op.template][op.method.lower()]
    documented = set()
    for parameter in item.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec.spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter.get("in") == "query":
            documented.add(parameter["name"])
    unknown = sorted(set(query) - documented)
    if unknown:
        raise Refusal(f"query parameters not documented for {op.template}: {unknown}")
    try:
        per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
    except ValueError as exc:
        raise Refusal(f"per_page and page must be integers: {exc}") from None
    if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
        raise Refusal(f"per_page must be 1..{MAX_PER_PAGE} and page at least 1")
    return items[(page - 1) * per_page : page * per_page]


def branch_rules(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    required = state.ruleset_checks.get((repo, params["branch"]), [])
    rules: list[dict[str, Any]] = []
    if required:
        rules.append(
            {
                "type": "required_status_checks",
                "ruleset_source_type": "Repository",
                "ruleset_source": repo,
                "ruleset_id": 42,
                "parameters": {
                    "required_status_checks": [{"context": name} for name in required],
                    "strict_required_status_checks_policy": False,
                },
            }
        )
    # the example's other rules apply too: they are not about checks
    return Answer(200, _page(spec, op, query, [*spec.example(op, 200), *rules]))


def branch(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    if params["branch"] not in state.branches.get(repo, {"master"}):
        return Answer(404, {"message": "Branch not found"})
    data = spec.example(op, 200)
    required = state.protection_checks.get((repo, params["branch"]), [])
    data.update(name=params["branch"], protected=bool(required))
    data["protection"] = {
        "enabled": bool(required),
        "required_status_checks": {
            "enforcement_level": "non_admins" if required else "off",
            # classic protection lists a check both ways: by name, and with the app it must come from
            "contexts": list(required),
            "checks": [{"context": name, "app_id": None} for name in required],
        },
    }
    return Answer(200, data)


def check_runs_for_ref(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    runs = [
        run for run in state.check_runs.values() if run["_repo"] == repo and run["head_sha"] == params["ref"]
    ]
    if query.get("filter", "latest") == "latest":  # the newest run of each name, as GitHub's default
        newest: dict[str, dict[str, Any]] = {}
        for run in sorted(runs, key=lambda r: r["id"]):
            newest[run["name"]] = run
        runs = list(newest.values())
    runs.sort(key=lambda r: -r["id"])
    page = _page(spec, op, query, runs)
    return Answer(200, {"total_count": len(runs), "check_runs": [public(run) for run in page]})


def combined_status(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    latest: dict[str, dict[str, Any]] = {}
    for status in state.statuses_for(params["ref"]):
        latest[status["context"]] = status
    statuses = list(latest.values())
    states = {status["state"] for status in statuses}
    combined = (
        "failure"
        if states & {"failure", "error"}
        else "pending"
        if "pending" in states or not states
        else "success"
    )
    data = spec.example(op, 200)
    data.update(
        state=combined,
        sha=params["ref"],
        total_count=len(statuses),
        statuses=[public(status) for status in _page(spec, op, query, statuses)],
    )
    return Answer(200, data)


def ci_check_run(
    state: State, spec: OpenAPI, repo: str, sha: str, name: str, conclusion: str | None
) -> dict[str, Any]:
    """Another app's check run (GitHub Actions' job) on `sha`: completed with `conclusion`, or
    in progress when None. A later one of the same name is a re-run."""
    operation = spec.operation("POST", f"/repos/{repo}/check-runs")
    assert operation is not None
    run = spec.example(operation, 201)
    run.update(
        id=state.next_id(),
        name=name,
        head_sha=sha,
        external_id="",
        status="completed" if conclusion else "in_progress",
        conclusion=conclusion,
        started_at=iso(),
        completed_at=iso() if conclusion else None,
    )
    run["app"] = dict(run["app"], slug="github-actions", name="GitHub Actions")
    run.update(_repo=repo, _annotations=[], _actions=[], _history=[run["status"]])
    state.check_runs[run["id"]] = run
    return run


def ci_status(state: State, spec: OpenAPI, repo: str, sha: str, context: str, value: str) -> dict[str, Any]:
    """A commit status another CI set on `sha` (pending, success, failure or error)."""
    operation = spec.operation("POST", f"/repos/{repo}/statuses/{sha}")
    assert operation is not None
    status = spec.example(operation, 201)
    status.update(id=state.next_id(), state=value, context=context, created_at=iso(), updated_at=iso())
    status["_sha"] = sha
    state.statuses.append(status)
    return status
