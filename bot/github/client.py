"""The real GitHub client: githubkit behind AutoStack's narrow `GitHubAPI` Protocol.

Every call holds a place in the installation's shared `Budget` and goes through `RetryPolicy`:
short waits are slept, a rate limit blocks the installation until its reset and reaches the
caller as `GitHubRateLimited`, and failures reach callers as our own error kinds.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import quote

import httpx

from bot.github.api import (
    CheckAction,
    CheckConclusion,
    CheckOutput,
    CheckStatus,
    DeploymentState,
    IssueComment,
    StatusState,
)
from bot.github.auth import InstallationTokens
from bot.github.budget import Budget, reserved
from bot.github.changed_files import ChangedFilesCalls
from bot.github.ci_reads import CIReads
from bot.github.errors import GitHubPermanentError, GitHubRateLimited
from bot.github.payloads import blob_text_from, check_run_body, comment_from, tree_files_from
from bot.github.ratelimit import HTTPFailure, RetryPolicy, TransportFailure
from bot.github.session import call_once, github_session, stream_to
from handlers.ports import CommitCheck, Reaction

if TYPE_CHECKING:
    from githubkit_schemas.latest.models import IssueComment as GitHubIssueComment
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoDeploymentsDeploymentIdStatusesPostBodyType,
        ReposOwnerRepoDeploymentsPostBodyType,
        ReposOwnerRepoStatusesShaPostBodyType,
    )

T = TypeVar("T")
COMMENTS_PAGE = 100


class InstallationClient(ChangedFilesCalls):
    """GitHub calls made as one installation of the App."""

    def __init__(
        self,
        installation_id: int,
        tokens: InstallationTokens,
        base_url: str,
        policy: RetryPolicy,
        budget: Budget,
    ) -> None:
        self.installation_id = installation_id
        self._tokens = tokens
        self._policy = policy
        self._budget = budget
        self._gh = github_session(base_url, self._auth_header)
        self._ci = CIReads(self._call, self._gh)

    async def _auth_header(self) -> str:
        return f"Bearer {await self._tokens.get(self.installation_id)}"

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, content: bool = False) -> T:
        """One call within the budget; `content` marks what GitHub counts as creating content."""
        async with reserved(self._budget, self.installation_id, what, content=content):
            try:
                return await self._attempts(what, call)
            except GitHubRateLimited as exc:
                await self._budget.block(self.installation_id, exc.retry_after)
                raise

    async def _attempts(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        async def attempt() -> T:
            try:
                return await call_once(what, call)
            except HTTPFailure as failure:
                if failure.status != 401:
                    raise
                # The token was revoked or expired early: one fresh exchange, then give up.
                self._tokens.invalidate(self.installation_id)
                return await call_once(what, call)

        return await self._policy.run(what, attempt)

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
        owner, name_ = repo.split("/", 1)
        body = check_run_body(
            status=status,
            output=output,
            actions=actions,
            started_at=started_at,
            conclusion=conclusion,
            completed_at=completed_at,
            name=name,
            head_sha=head_sha,
            external_id=external_id,
            details_url=details_url,
        )
        response = await self._call(
            f"creating check run {name!r} on {repo}@{head_sha[:7]}",
            # the body is JSON-ready (times as ISO text); githubkit's TypedDict wants datetimes
            lambda: self._gh.rest.checks.async_create(owner, name_, data=body),
            content=True,
        )
        return int(response.parsed_data.id)

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
        owner, name = repo.split("/", 1)
        body = check_run_body(
            status=status,
            conclusion=conclusion,
            output=output,
            actions=actions,
            started_at=started_at,
            completed_at=completed_at,
        )
        await self._call(
            f"updating check run {check_run_id} on {repo}",
            # JSON-ready body, as for create_check_run
            lambda: self._gh.rest.checks.async_update(owner, name, check_run_id, data=body),
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
        """Set the commit status for one context on a commit."""
        owner, name = repo.split("/", 1)
        body: ReposOwnerRepoStatusesShaPostBodyType = {
            "state": state,
            "context": context,
            "description": description[:140],
            "target_url": target_url,
        }
        await self._call(
            f"setting status {context!r} on {repo}@{sha[:7]}",
            lambda: self._gh.rest.repos.async_create_commit_status(owner, name, sha, data=body),
            content=True,
        )

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
        owner, name = repo.split("/", 1)
        # auto_merge off and no required contexts: AutoStack deploys exactly the commit asked.
        body: ReposOwnerRepoDeploymentsPostBodyType = {
            "ref": ref,
            "environment": environment,
            "description": description[:140],
            "auto_merge": False,
            "required_contexts": [],
            "transient_environment": transient,
            "production_environment": production,
        }
        response = await self._call(
            f"creating deployment of {repo}@{ref[:7]} to {environment}",
            lambda: self._gh.rest.repos.async_create_deployment(owner, name, data=body),
            content=True,
        )
        return int(response.json()["id"])

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
        owner, name = repo.split("/", 1)
        body: ReposOwnerRepoDeploymentsDeploymentIdStatusesPostBodyType = {
            "state": state,
            "description": description[:140],
        }
        if environment_url:
            body["environment_url"] = environment_url
        if log_url:
            body["log_url"] = log_url
        await self._call(
            f"setting deployment {deployment_id} of {repo} to {state}",
            lambda: self._gh.rest.repos.async_create_deployment_status(owner, name, deployment_id, data=body),
            content=True,
        )

    async def list_issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        """Every comment on an issue or pull request, oldest first."""
        owner, name = repo.split("/", 1)
        comments: list[IssueComment] = []
        page = 1
        while True:
            response = await self._call(
                f"listing comments of {repo}#{number}",
                functools.partial(
                    self._gh.rest.issues.async_list_comments,
                    owner,
                    name,
                    number,
                    per_page=COMMENTS_PAGE,
                    page=page,
                ),
            )
            # githubkit's issues client has a method named `list`, which its annotation
            # `list[IssueComment]` resolves to; the parsed data is the list it says
            batch = cast("list[GitHubIssueComment]", response.parsed_data)
            comments.extend(comment_from(item) for item in batch)
            if len(batch) < COMMENTS_PAGE:
                return comments
            page += 1

    async def create_issue_comment(self, repo: str, number: int, body: str) -> IssueComment:
        """Post a comment on an issue or pull request."""
        owner, name = repo.split("/", 1)
        response = await self._call(
            f"commenting on {repo}#{number}",
            lambda: self._gh.rest.issues.async_create_comment(owner, name, number, data={"body": body}),
            content=True,
        )
        return comment_from(response.parsed_data)

    async def update_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """Replace a comment's body."""
        owner, name = repo.split("/", 1)
        await self._call(
            f"editing comment {comment_id} on {repo}",
            lambda: self._gh.rest.issues.async_update_comment(owner, name, comment_id, data={"body": body}),
        )

    async def create_reaction(self, repo: str, comment_id: int, content: Reaction) -> None:
        """React to an issue or pull request comment."""
        owner, name = repo.split("/", 1)
        await self._call(
            f"reacting {content} to comment {comment_id} on {repo}",
            lambda: self._gh.rest.reactions.async_create_for_issue_comment(
                owner, name, comment_id, data={"content": content}
            ),
            content=True,
        )

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read, none."""
        owner, name = repo.split("/", 1)
        try:
            response = await self._call(
                f"asking {username}'s permission on {repo}",
                lambda: self._gh.rest.repos.async_get_collaborator_permission_level(owner, name, username),
            )
        except GitHubPermanentError as exc:
            if exc.status == 404:  # not a collaborator (or no such user): no access
                return "none"
            raise
        data = response.parsed_data
        role = getattr(data, "role_name", None)
        # role_name tells maintain and triage apart; permission folds them into write and read.
        return str(role) if role in ("admin", "maintain", "write", "triage", "read") else str(data.permission)

    async def root_files(self, repo: str, ref: str) -> dict[str, str]:
        """The regular files at the root of `repo` at `ref` (branch, tag or sha): name → blob sha;
        empty for an empty repository or an unknown ref."""
        owner, name = repo.split("/", 1)
        try:
            response = await self._call(
                f"listing the files of {repo}@{ref}",
                lambda: self._gh.rest.git.async_get_tree(owner, name, quote(ref, safe="")),
            )
        except GitHubPermanentError as exc:
            if exc.status in (404, 409):  # 409: a repository without a commit yet
                return {}
            raise
        return tree_files_from(response.json())

    async def blob_text(self, repo: str, sha: str) -> str | None:
        """The text of the blob `sha`; None when it is binary."""
        owner, name = repo.split("/", 1)
        response = await self._call(
            f"reading blob {sha[:12]} of {repo}",
            lambda: self._gh.rest.git.async_get_blob(owner, name, sha),
        )
        return blob_text_from(response.json())

    async def list_required_checks(self, repo: str, branch: str) -> list[str]:
        """The checks the branch's rulesets and branch protection require (their names)."""
        return await self._ci.required_checks(repo, branch)

    async def list_commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        """The latest check run of each name and the latest status of each context on `sha`."""
        return await self._ci.commit_checks(repo, sha)

    async def download_tarball(self, repo: str, ref: str, dest: Path, *, max_bytes: int) -> int:
        """Stream the repository at `ref` as a tar.gz into `dest`; return its size in bytes."""
        what = f"downloading {repo}@{ref[:12]}"
        url = f"repos/{repo}/tarball/{quote(ref, safe='')}"

        async def fetch() -> int:
            try:
                return await stream_to(self._gh, url, dest, what=what, max_bytes=max_bytes)
            except httpx.TransportError as exc:
                raise TransportFailure(type(exc).__name__) from exc

        try:
            return await self._call(what, fetch)
        except Exception:
            await asyncio.to_thread(dest.unlink, missing_ok=True)
            raise
