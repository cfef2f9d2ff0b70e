"""The one sticky pull-request comment, found again by a hidden marker (pure render)."""

from __future__ import annotations

import json
from datetime import UTC

from bot.github.api import IssueComment
from bot.reporter.views import CommentRow, build_time, short_sha, state_label
from handlers.commands.registry import command_hint

MARKER = "<!-- autostack:pr-comment -->"


def is_sticky(comment: IssueComment) -> bool:
    """True for AutoStack's own comment (a bot's comment carrying the marker)."""
    return comment.author_is_bot and comment.body.lstrip().startswith(MARKER)


def find_sticky(comments: list[IssueComment]) -> IssueComment | None:
    """The oldest sticky comment, which is the one to keep editing."""
    return next((comment for comment in comments if is_sticky(comment)), None)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_pr_comment(project: str, rows: list[CommentRow], locks: tuple[str, ...] = ()) -> str:
    """The comment body: a table of the pull request's environments, their locks, a data marker."""
    apps = any(row.app for row in rows)
    lines = [
        MARKER,
        "**AutoStack** — preview for this pull request",
        "",
        f"| {'app | ' if apps else ''}environment | status | URL | commit | build | updated |",
        f"|{'---|' if apps else ''}---|---|---|---|---|---|",
    ]
    for row in rows:
        url = _cell(row.url) if row.url and row.state == "ready" else "—"
        shown = row.awaiting_approval or row.sha
        commit = f"`{short_sha(shown)}`" if shown else "—"
        updated = row.updated.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if row.updated else "—"
        status = "⏸ Waiting for approval" if row.awaiting_approval else state_label(row.state)
        if row.held_because and not row.awaiting_approval:
            status += f": {_cell(row.held_because)}"
        app = f"{_cell(row.app)} | " if apps else ""
        lines.append(
            f"| {app}{_cell(row.environment)} | {status} | {url} | {commit} "
            f"| {build_time(row.build_seconds, row.cache_hit)} | {updated} |"
        )
    data = {
        "project": project,
        "environments": [
            {
                **({"app": row.app} if row.app else {}),
                "name": row.environment,
                "state": "awaiting_approval" if row.awaiting_approval else row.state,
                "url": row.url,
                "sha": row.awaiting_approval or row.sha,
            }
            for row in rows
        ],
    }
    # "--" cannot appear inside an HTML comment; escaping keeps the marker intact.
    encoded = json.dumps(data, separators=(",", ":")).replace("--", "-\\u002d")
    lines += [
        f"\nPreview waits for approval: a member with write access comments `/deploy` to build "
        f"`{short_sha(row.awaiting_approval)}`; secrets are not available to fork previews."
        for row in rows
        if row.awaiting_approval
    ]
    lines += [f"\n🔒 {lock}." for lock in locks]
    named = tuple(sorted({row.app for row in rows if row.app}))
    lines += ["", command_hint(named), f"<!-- autostack:data {encoded} -->"]
    return "\n".join(lines)
