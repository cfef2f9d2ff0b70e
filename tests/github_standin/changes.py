"""What a pull request or a push changed: the PR files list and the comparison of two commits,
paginated like GitHub (per_page at most 100, Link headers; 3000 PR files, 300 compared)."""

from __future__ import annotations

from typing import Any

from tests.github_standin.answers import Answer, Refusal
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State

PULL_FILES_MAX = 3000
COMPARE_FILES_MAX = 300


def _paging(query: dict[str, str]) -> tuple[int, int]:
    try:
        per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
    except ValueError:
        raise Refusal("per_page and page must be integers") from None
    return max(1, min(per_page, 100)), max(1, page)


def _link(path: str, page: int, per_page: int, last: int) -> dict[str, str]:
    links = []
    if page < last:
        links.append(f'<https://api.github.com{path}?per_page={per_page}&page={page + 1}>; rel="next"')
        links.append(f'<https://api.github.com{path}?per_page={per_page}&page={last}>; rel="last"')
    if page > 1:
        links.append(f'<https://api.github.com{path}?per_page={per_page}&page=1>; rel="first"')
        links.append(f'<https://api.github.com{path}?per_page={per_page}&page={page - 1}>; rel="prev"')
    return {"Link": ", ".join(links)} if links else {}


def _entries(spec: OpenAPI, names: list[str]) -> list[dict[str, Any]]:
    template = spec.spec["components"]["examples"]["diff-entry-items"]["value"][0]
    return [{**template, "filename": name, "status": "modified"} for name in names]


def pull_files(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    names = state.pull_files.get((repo, int(params["pull_number"])))
    if names is None:
        return Answer(404, {"message": "Not Found"})
    per_page, page = _paging(query)
    listed = names[:PULL_FILES_MAX]
    last = max(1, -(-len(listed) // per_page))
    path = f"/repos/{repo}/pulls/{params['pull_number']}/files"
    chunk = listed[(page - 1) * per_page : page * per_page]
    return Answer(200, _entries(spec, chunk), _link(path, page, per_page, last))


def compare(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    # GitHub's description has `{basehead}` and `{base}...{head}`: one path segment either way
    if "basehead" in params:
        base, _, head = params["basehead"].partition("...")
    else:
        base, head = params["base"], params["head"]
    names = state.compared.get((repo, base, head))
    if names is None:
        return Answer(404, {"message": "Not Found"})
    per_page, page = _paging(query)
    answer = spec.example(op, 200)
    commits = answer["commits"]
    last = max(1, -(-len(commits) // per_page))
    answer["commits"] = commits[(page - 1) * per_page : page * per_page]
    # with paging, files come on the first page only, at most 300 for the whole comparison
    answer["files"] = _entries(spec, names[:COMPARE_FILES_MAX]) if page == 1 else []
    path = f"/repos/{repo}/compare/{base}...{head}"
    return Answer(200, answer, _link(path, page, per_page, last))
