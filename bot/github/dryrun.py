"""A GitHub that only says what it would do: for `autostack receive --dry-run` and for running
without an App configured. It records each call so the CLI (and tests) can show them."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.github.api import (
    CheckAction,
    CheckConclusion,
    CheckOutput,
    CheckStatus,
    DeploymentState,
    InstallationInfo,
    IssueComment,
    StatusState,
)
from handlers.ports import CommitCheck, Reaction

log = logging.getLogger("autostack.github.dryrun")


@dataclass(frozen=True, slots=True)
class WouldCall:
    """One call the dry run did not make."""

    action: str
    repo: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        shown = " ".join(f"{key}={value!r}" for key, value in self.details.items())
        return f"{self.action} {self.repo} {shown}".rstrip()


class DryRunGitHub:
    """Implements `GitHubAPI` by logging and recording; ids are made up, comments remembered."""

    def __init__(self, calls: list[WouldCall] | None = None) -> None:
        self.calls: list[WouldCall] = [] if calls is None else calls
        self._ids = itertools.count(1)
        self._comments: dict[tuple[str, int], list[IssueComment]] = {}

    def _record(self, action: str, repo: str, **details: Any) -> None:
        call = WouldCall(action, repo, details)
        self.calls.append(call)
        log.info("dry run: would %s", call)

    async def create_check_run(
        self,
        repo: str,
        *,
        name: str,
        head_sha: str,
        status: CheckStatus,
        external_id: str,
        details_url: str,
        output: CheckOutput,
        actions: tuple[CheckAction, ...] = (),
        started_at: datetime | None = None,
        conclusion: CheckConclusion | None = None,
        completed_at: datetime | None = None,
    ) -> int:
        """Record a check run creation."""
        self._record(
            "create check run",
            repo,
            name=name,
            sha=head_sha[:7],
            status=status,
            conclusion=conclusion,
            title=output.title,
        )
        return next(self._ids)

    async def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: CheckStatus | None = None,
        conclusion: CheckConclusion | None = None,
        output: CheckOutput | None = None,
        actions: tuple[CheckAction, ...] | None = None,
        started_at: datetime | None = None,
        completed_at: datetime | None = None,
    ) -> None:
        """Record a check run update."""
        self._record(
            "update check run",
            repo,
            id=check_run_id,
            status=status,
            conclusion=conclusion,
            title=output.title if output else None,
        )

    async def create_commit_status(
        self,
        repo: str,
        sha: str,
        *,
        state: StatusState,
        context: str,
        description: str,
        target_url: str,
    ) -> None:
        """Record a commit status."""
        self._record("set commit status", repo, sha=sha[:7], context=context, state=state)

    async def create_deployment(
        self,
        repo: str,
        *,
        ref: str,
        environment: str,
        description: str,
        transient: bool,
        production: bool,
    ) -> int:
        """Record a deployment creation."""
        self._record("create deployment", repo, ref=ref[:7], environment=environment)
        return next(self._ids)

    async def create_deployment_status(
        self,
        repo: str,
        deployment_id: int,
        *,
        state: DeploymentState,
        description: str,
        environment_url: str | None = None,
        log_url: str | None = None,
    ) -> None:
        """Record a deployment status."""
        self._record("set deployment status", repo, id=deployment_id, state=state, url=environment_url)

    async def list_issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        """The comments this dry run pretended to post."""
        return list(self._comments.get((repo, number), []))

    async def create_issue_comment(self, repo: str, number: int, body: str) -> IssueComment:
        """Record a comment and remember it, so a sticky comment is edited, not re-posted."""
        self._record("comment", repo, number=number, chars=len(body))
        comment = IssueComment(id=next(self._ids), body=body, author="autostack[bot]", author_is_bot=True)
        self._comments.setdefault((repo, number), []).append(comment)
        return comment

    async def update_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """Record a comment edit."""
        self._record("edit comment", repo, id=comment_id, chars=len(body))
        for comments in self._comments.values():
            for index, comment in enumerate(comments):
                if comment.id == comment_id:
                    comments[index] = IssueComment(comment_id, body, comment.author, True)

    async def create_reaction(self, repo: str, comment_id: int, content: Reaction) -> None:
        """Record a reaction."""
        self._record("react", repo, comment=comment_id, content=content)

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        """Without GitHub there is nobody to ask; a dry run lets the command through."""
        self._record("ask permission", repo, user=username)
        return "admin"

    async def root_files(self, repo: str, ref: str) -> dict[str, str]:
        """Without GitHub there are no files to read: the repository's defaults apply."""
        self._record("list files", repo, ref=ref)
        return {}

    async def blob_text(self, repo: str, sha: str) -> str | None:
        """Never reached through `root_files`; a blob a dry run cannot read has no text."""
        self._record("read blob", repo, sha=sha[:12])
        return None

    async def list_required_checks(self, repo: str, branch: str) -> list[str]:
        """Without GitHub no check is required: `deploy.checks` alone names any."""
        self._record("read required checks", repo, branch=branch)
        return []

    async def list_commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        """Without GitHub no check has reported."""
        self._record("read commit checks", repo, sha=sha[:12])
        return []

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        """Without GitHub the changed files are unknown, so every app deploys."""
        self._record("list pull request files", repo, number=number)
        return None

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        """Without GitHub the base is unknown, so every app deploys."""
        self._record("compare", repo, base=base[:12], head=head[:12])
        return None

    async def download_tarball(self, repo: str, ref: str, dest: Path, *, max_bytes: int) -> int:
        """A dry run cannot fetch source; say so instead of pretending."""
        self._record("download tarball", repo, ref=ref[:12])
        raise NotImplementedError("a dry run does not download source; deploy a local folder")


class DryRunApps:
    """Implements `GitHubApps` with one shared recording of every installation's calls."""

    def __init__(self) -> None:
        self.calls: list[WouldCall] = []
        self._clients: dict[int, DryRunGitHub] = {}

    def installation(self, installation_id: int) -> DryRunGitHub:
        """The dry-run client for an installation."""
        return self._clients.setdefault(installation_id, DryRunGitHub(self.calls))

    async def get_installation(self, installation_id: int) -> InstallationInfo:
        """A placeholder installation."""
        return InstallationInfo(installation_id, "dry-run", "User", suspended=False)
