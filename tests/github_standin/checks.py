"""Check runs: create and update, keeping annotations, actions and the status history."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer, Refusal, iso, public
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State


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
        started_at=body.get("started_at", iso()),
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
    return Answer(201, public(run))


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
        run.setdefault("completed_at", iso())
    if "actions" in body:
        run["_actions"] = body["actions"]
    if run["_history"][-1] != run["status"]:
        run["_history"].append(run["status"])
    return Answer(200, public(run))
