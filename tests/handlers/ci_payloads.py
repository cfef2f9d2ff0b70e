"""CI deliveries for `deploy.after: checks`, derived from real payloads (octokit/webhooks, see
tests/fixtures/github-webhooks/README.md) and validated against GitHub's webhook schemas.

The fixtures report on other commits and, some, on another repository and without an
installation; each derivation points them at Hello-World, installation 1 and `sha`.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import payload
from tests.handlers.doubles import validated

INSTALLATION = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}


def _ours(body: dict[str, Any]) -> dict[str, Any]:
    """The delivery about Hello-World, through installation 1."""
    body["repository"] = copy.deepcopy(payload("push/with-new-branch")["repository"])
    body["installation"] = dict(INSTALLATION)
    return body


def check_run_completed(sha: str, name: str, conclusion: str) -> dict[str, Any]:
    """GitHub Actions' `name` job finished on `sha` (from check_run/completed)."""
    body = _ours(copy.deepcopy(payload("check_run/completed")))
    run = body["check_run"]
    run.update(head_sha=sha, name=name, conclusion=conclusion, status="completed")
    run["check_suite"]["head_sha"] = sha
    return validated("check_run", "completed", body)


def check_suite_completed(sha: str, conclusion: str) -> dict[str, Any]:
    """A check suite on `sha` finished (from check_suite/completed)."""
    body = _ours(copy.deepcopy(payload("check_suite/completed")))
    body["check_suite"].update(head_sha=sha, conclusion=conclusion, status="completed")
    return validated("check_suite", "completed", body)


def workflow_run_completed(sha: str, conclusion: str) -> dict[str, Any]:
    """A GitHub Actions workflow run on `sha` finished (from workflow_run/completed)."""
    body = _ours(copy.deepcopy(payload("workflow_run/completed")))
    body["workflow_run"].update(head_sha=sha, conclusion=conclusion, status="completed")
    return validated("workflow_run", "completed", body)


def status(sha: str, context: str, state: str) -> dict[str, Any]:
    """Another CI set the commit status `context` on `sha` (from status/with-installation)."""
    body = _ours(copy.deepcopy(payload("status/with-installation")))
    body.update(sha=sha, context=context, state=state)
    body["commit"]["sha"] = sha
    return validated("status", None, body)
