"""The narrow set of GitHub calls AutoStack makes, as a Protocol with plain value types.

The real client (githubkit), the dry-run recorder and test doubles all implement it, so the
reporter and the handlers never see a library type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from handlers.ports import CommitCheck, Reaction

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal["success", "failure", "cancelled", "timed_out", "neutral"]
StatusState = Literal["pending", "success", "failure", "error"]
DeploymentState = Literal["queued", "in_progress", "success", "failure", "error", "inactive"]
AnnotationLevel = Literal["notice", "warning", "failure"]


@dataclass(frozen=True, slots=True)
class Annotation:
    """A check-run annotation on a file and line the build blamed."""

    path: str
    start_line: int
    message: str
    level: AnnotationLevel = "failure"
    title: str | None = None
    end_line: int | None = None
    start_column: int | None = None


@dataclass(frozen=True, slots=True)
class CheckAction:
    """A button on a check run; GitHub sends `check_run.requested_action` with the identifier."""

    label: str
    description: str
    identifier: str


@dataclass(frozen=True, slots=True)
class CheckOutput:
    """What a check run shows: title, Markdown summary and text, annotations."""

    title: str
    summary: str
    text: str | None = None
    annotations: tuple[Annotation, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class IssueComment:
    """A comment on an issue or pull request."""

    id: int
    body: str
    author: str
    author_is_bot: bool


@dataclass(frozen=True, slots=True)
class InstallationInfo:
    """An App installation as GitHub describes it."""

    id: int
    account_login: str
    account_type: str
    suspended: bool


class GitHubAPI(Protocol):
    """Calls made on behalf of one installation; `repo` is `owner/name`."""

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
        """Create a check run and return its id (already completed when `conclusion` is given)."""
        ...

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
        """Change a check run's state, output or buttons."""
        ...

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
        """Set the commit status for one context on a commit."""
        ...

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
        """Create a GitHub Deployment and return its id."""
        ...

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
        """Add a status to a GitHub Deployment."""
        ...

    async def list_issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        """Every comment on an issue or pull request, oldest first."""
        ...

    async def create_issue_comment(self, repo: str, number: int, body: str) -> IssueComment:
        """Post a comment on an issue or pull request."""
        ...

    async def update_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """Replace a comment's body."""
        ...

    async def create_reaction(self, repo: str, comment_id: int, content: Reaction) -> None:
        """React to an issue or pull request comment."""
        ...

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read, none."""
        ...

    async def root_files(self, repo: str, ref: str) -> dict[str, str]:
        """The regular files at the root of `repo` at `ref` (branch, tag or sha): name → blob sha;
        empty for an empty repository or an unknown ref."""
        ...

    async def blob_text(self, repo: str, sha: str) -> str | None:
        """The text of the blob `sha`; None when it is binary."""
        ...

    async def list_required_checks(self, repo: str, branch: str) -> list[str]:
        """The checks the branch's rulesets and branch protection require (their names)."""
        ...

    async def list_commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        """The latest check run of each name and the latest status of each context on `sha`."""
        ...

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        """Every path a pull request changes; None when GitHub lists only part of them."""
        ...

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        """Every path changed from `base` to `head`; None when unknown or only partly listed."""
        ...

    async def download_tarball(self, repo: str, ref: str, dest: Path, *, max_bytes: int) -> int:
        """Stream the repository at `ref` as a tar.gz into `dest`; return its size in bytes."""
        ...


class GitHubApps(Protocol):
    """The App itself: hands out installation clients and answers App-level questions."""

    def installation(self, installation_id: int) -> GitHubAPI:
        """A client acting as the given installation."""
        ...

    async def get_installation(self, installation_id: int) -> InstallationInfo:
        """Look up an installation of this App."""
        ...
