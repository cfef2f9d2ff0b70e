"""Request bodies and response conversions for the GitHub client (pure, no I/O)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from bot.github.api import Annotation, CheckAction, CheckOutput, IssueComment

MAX_ANNOTATIONS = 50
MAX_ACTIONS = 3
SYMLINK_MODE = "120000"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def annotation_body(annotation: Annotation) -> dict[str, Any]:
    """An annotation as the Checks API takes it (columns only on a single line, as required)."""
    end_line = annotation.end_line or annotation.start_line
    body: dict[str, Any] = {
        "path": annotation.path,
        "start_line": annotation.start_line,
        "end_line": end_line,
        "annotation_level": annotation.level,
        "message": annotation.message,
    }
    if annotation.title:
        body["title"] = annotation.title
    if annotation.start_column is not None and end_line == annotation.start_line:
        body["start_column"] = annotation.start_column
        body["end_column"] = annotation.start_column
    return body


def output_body(output: CheckOutput) -> dict[str, Any]:
    """A check run's `output` object."""
    body: dict[str, Any] = {"title": output.title, "summary": output.summary}
    if output.text is not None:
        body["text"] = output.text
    if output.annotations:
        body["annotations"] = [annotation_body(a) for a in output.annotations[:MAX_ANNOTATIONS]]
    return body


def action_body(action: CheckAction) -> dict[str, str]:
    """A check run button."""
    return {
        "label": action.label,
        "description": action.description,
        "identifier": action.identifier,
    }


def check_run_body(
    *,
    status: str | None = None,
    conclusion: str | None = None,
    output: CheckOutput | None = None,
    actions: tuple[CheckAction, ...] | None = None,
    started_at: datetime | None = None,
    completed_at: datetime | None = None,
    **fields: str,
) -> dict[str, Any]:
    """The body of a create or update check-run request, with unset fields left out."""
    body: dict[str, Any] = dict(fields)
    if conclusion is not None:
        # GitHub sets status to completed itself when a conclusion is given.
        body["conclusion"] = conclusion
        body["status"] = "completed"
    elif status is not None:
        body["status"] = status
    if output is not None:
        body["output"] = output_body(output)
    if actions is not None:
        body["actions"] = [action_body(a) for a in actions[:MAX_ACTIONS]]
    if started_at is not None:
        body["started_at"] = _iso(started_at)
    if completed_at is not None:
        body["completed_at"] = _iso(completed_at)
    return body


def comment_from(data: Any) -> IssueComment:
    """Our view of githubkit's issue comment model."""
    user = data.user
    return IssueComment(
        id=data.id,
        body=data.body or "",
        author=user.login if user else "",
        author_is_bot=bool(user and user.type == "Bot"),
    )


def blob_text_from(data: Any) -> str | None:
    """The text of a git-blob answer; None for a binary (or undecodable) blob."""
    if not isinstance(data, dict) or data.get("encoding") != "base64":
        return None
    try:
        return base64.b64decode(data.get("content") or "").decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def tree_files_from(data: Any) -> dict[str, str]:
    """A git-tree answer's regular files: name → blob sha (folders and symlinks left out)."""
    entries = data.get("tree") if isinstance(data, dict) else None
    return {
        entry["path"]: entry["sha"]
        for entry in entries or ()
        if entry.get("type") == "blob" and entry.get("mode") != SYMLINK_MODE
    }
