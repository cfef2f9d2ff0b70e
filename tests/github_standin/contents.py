"""Repository contents: one file by path, and the whole tree as a tarball."""

from __future__ import annotations

import base64
from typing import Any

from tests.github_standin.answers import Answer
from tests.github_standin.openapi import OpenAPI, Operation
from tests.github_standin.state import State


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
