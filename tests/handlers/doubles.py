"""Test doubles for handler tests: a recording job queue and a GitHub behind `GitHubPort`.

Payloads the fixtures lack (merged close, branch deletion, fork PR, PR comments) are derived
from real ones here and validated against GitHub's webhook schemas before use.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.context import Context, HandlerSettings
from handlers.permissions import PermissionCache
from handlers.ports import CommitCheck, Reaction
from tests.conftest import WEBHOOKS, payload
from tests.github_standin.contents import git_blob_sha

REPO = "Codertocat/Hello-World"
REPO_ID = 186853002


@dataclass
class RecordingJobs:
    """A JobEnqueuer that remembers what was queued (and refuses a repeated job id, like arq)."""

    queued: list[tuple[str, tuple[Any, ...], str | None]] = field(default_factory=list)

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        if job_id is not None and any(existing == job_id for _, _, existing in self.queued):
            return False
        self.queued.append((function, args, job_id))
        return True

    def named(self, function: str) -> list[tuple[Any, ...]]:
        return [args for name, args, _ in self.queued if name == function]


@dataclass
class FakeGitHub:
    """Answers the calls of `GitHubPort` from dicts and records what was done."""

    permissions: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    reactions: list[tuple[int, str]] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)
    permission_calls: int = 0
    file_calls: int = 0
    # branch → the checks it requires; sha → its checks
    required: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, list[CommitCheck]] = field(default_factory=dict)
    required_calls: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # what a pull request or push changed

    async def create_reaction(self, repo: str, comment_id: int, content: Reaction) -> None:
        self.reactions.append((comment_id, content))

    async def create_issue_comment(self, repo: str, number: int, body: str) -> object:
        self.comments.append((number, body))
        return None

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        self.permission_calls += 1
        return self.permissions.get(username, "none")

    async def root_files(self, repo: str, ref: str) -> dict[str, str]:
        self.file_calls += 1
        return {name: git_blob_sha(text) for name, text in self.files.items()}

    async def blob_text(self, repo: str, sha: str) -> str | None:
        self.file_calls += 1
        return next((text for text in self.files.values() if git_blob_sha(text) == sha), None)

    async def list_required_checks(self, repo: str, branch: str) -> list[str]:
        self.required_calls.append(branch)
        return self.required.get(branch, [])

    async def list_commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        return self.checks.get(sha, [])

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        return list(self.changed)

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        return list(self.changed)


def context(
    sessions: async_sessionmaker[AsyncSession],
    event: str,
    body: dict[str, Any],
    *,
    jobs: RecordingJobs,
    github: FakeGitHub,
    delivery_id: str = "d-1",
    settings: HandlerSettings | None = None,
) -> Context:
    """A handler context for one delivery of `body`."""
    return Context(
        delivery_id=delivery_id,
        event=event,
        action=body.get("action"),
        payload=body,
        sessions=sessions,
        jobs=jobs,
        log=logging.LoggerAdapter(logging.getLogger("test.handlers"), {"delivery_id": delivery_id}),
        github=github,
        settings=settings or HandlerSettings(),
        permissions=PermissionCache(),
    )


@cache
def _registry() -> Registry[Any]:
    resources = []
    for path in (WEBHOOKS / "schemas").rglob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def validated(event: str, action: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """`body`, after checking it against GitHub's schema for the event (derived payloads)."""
    ref = f"{event}${action or 'event'}"
    jsonschema.Draft7Validator({"$ref": ref}, registry=_registry()).validate(body)
    return body


def push(
    ref: str = "refs/heads/master",
    *,
    sha: str = "a" * 40,
    message: str = "Change",
    pushed_at: int = 1_700_000_000,
    deleted: bool = False,
    forced: bool = False,
) -> dict[str, Any]:
    """A push (derived from the real branch-creating push) of one commit to `ref`."""
    body = copy.deepcopy(payload("push/with-new-branch"))
    body.update(ref=ref, after="0" * 40 if deleted else sha, created=False, deleted=deleted, forced=forced)
    body["repository"]["pushed_at"] = pushed_at
    if deleted:
        body["head_commit"], body["commits"] = None, []
    else:
        body["head_commit"].update(id=sha, message=message)
        body["commits"][0].update(id=sha, message=message)
    return validated("push", None, body)


def pull_request(
    action: str,
    *,
    number: int = 2,
    sha: str = "b" * 40,
    updated_at: str = "2024-01-01T10:00:00Z",
    fork: bool = False,
    draft: bool = False,
    merged: bool = False,
) -> dict[str, Any]:
    """A pull_request event derived from the real `opened` one."""
    source = "synchronize" if action == "synchronize" else "closed" if action == "closed" else "opened"
    body = copy.deepcopy(payload(f"pull_request/{source}"))
    body["action"], body["number"] = action, number
    pull = body["pull_request"]
    pull.update(number=number, updated_at=updated_at, draft=draft)
    pull["head"]["sha"] = sha
    if action == "closed":
        pull.update(state="closed", closed_at=updated_at, merged=merged)
        if merged:
            pull.update(
                merged_at=updated_at, merge_commit_sha="c" * 40, merged_by=copy.deepcopy(pull["user"])
            )
    if fork:
        head_repo = pull["head"]["repo"]
        head_repo.update(id=REPO_ID + 1, full_name="mallory/Hello-World", fork=True)
        head_repo["owner"] = dict(head_repo["owner"], login="mallory", id=99)
        pull["head"]["label"] = "mallory:changes"
    return validated("pull_request", action, body)


def pr_comment(
    text: str,
    *,
    login: str = "octocat",
    user_type: str = "User",
    number: int = 2,
    created_at: str = "2024-01-01T11:00:00Z",
    state: str = "open",
) -> dict[str, Any]:
    """A comment on a pull request, derived from the real issue comment with an installation."""
    body = copy.deepcopy(payload("issue_comment/created.with-installation"))
    issue, comment = body["issue"], body["comment"]
    issue.update(number=number, state=state)
    issue["pull_request"] = {
        "url": f"https://api.github.com/repos/{REPO}/pulls/{number}",
        "html_url": f"https://github.com/{REPO}/pull/{number}",
        "diff_url": f"https://github.com/{REPO}/pull/{number}.diff",
        "patch_url": f"https://github.com/{REPO}/pull/{number}.patch",
        "merged_at": None,
    }
    comment.update(body=text, created_at=created_at, updated_at=created_at)
    comment["user"] = dict(comment["user"], login=login, type=user_type)
    return validated("issue_comment", "created", body)
