"""Repository contents: one file by path, the root's git tree, a blob by sha, and the whole
tree as a tarball."""

from __future__ import annotations

import base64
import hashlib
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


def git_blob_sha(text: str) -> str:
    """The sha git gives a file with this text (what GitHub answers as the blob's sha)."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _tree_files(state: State, repo: str, ref: str) -> dict[str, str]:
    # files added for this ref, else the default branch's (the stand-in knows no branch names)
    refs = {key_ref for (key_repo, _, key_ref) in state.files if key_repo == repo}
    wanted = ref if ref in refs else None
    return {
        path: text
        for (key_repo, path, key_ref), text in state.files.items()
        if key_repo == repo and key_ref == wanted and "/" not in path
    }


def tree(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    entries = [
        {
            "path": path,
            "mode": "100644",
            "type": "blob",
            "sha": git_blob_sha(text),
            "size": len(text.encode()),
            "url": f"https://api.github.com/repos/{repo}/git/blobs/{git_blob_sha(text)}",
        }
        for path, text in sorted(_tree_files(state, repo, params["tree_sha"]).items())
    ]
    return Answer(200, {"sha": "0" * 40, "url": "", "tree": entries, "truncated": False})


def blob(
    state: State, spec: OpenAPI, op: Operation, params: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = f"{params['owner']}/{params['repo']}"
    for (key_repo, _, _), text in state.files.items():
        if key_repo == repo and git_blob_sha(text) == params["file_sha"]:
            data = {
                "sha": params["file_sha"],
                "node_id": "",
                "url": "",
                "size": len(text.encode()),
                "encoding": "base64",
                "content": base64.b64encode(text.encode()).decode(),
            }
            return Answer(200, data)
    return Answer(404, {"message": "Not Found"})
