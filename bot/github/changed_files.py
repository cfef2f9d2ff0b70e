"""The files a pull request or a push changed, paginated the way GitHub's REST API pages them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.github.errors import GitHubPermanentError

T = TypeVar("T")
FILES_PAGE = 100  # the most GitHub gives per page
# GitHub lists at most 3000 files of a pull request (30 pages of 100)
PULL_FILES_PAGES = 30


def _names(entries: list[dict[str, Any]]) -> list[str]:
    """Each entry's path, and the path a renamed file had (moving a file away changes that app)."""
    names: list[str] = []
    for entry in entries:
        names.append(entry["filename"])
        if entry.get("previous_filename"):
            names.append(entry["previous_filename"])
    return names


def _has_next(headers: Any) -> bool:
    return 'rel="next"' in (headers.get("link") or "")


class ChangedFilesCalls:
    """Mixed into the installation client, whose `_call` and `_gh` these use."""

    _gh: Any
    _call: Callable[..., Awaitable[Any]]

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        """The paths a pull request changes (GitHub stops at 3000 files), following Link: next."""
        owner, name = repo.split("/", 1)
        paths: list[str] = []
        for page in range(1, PULL_FILES_PAGES + 1):
            response = await self._call(
                f"listing the files of {repo}#{number} (page {page})",
                lambda page=page: self._gh.rest.pulls.async_list_files(
                    owner, name, number, per_page=FILES_PAGE, page=page
                ),
            )
            paths += _names(response.json())
            if not _has_next(response.headers):
                break
        return paths

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        """The paths changed from `base` to `head` (GitHub lists at most 300); None when GitHub
        does not know `base` any more (a force push dropped it)."""
        owner, name = repo.split("/", 1)
        try:
            # with paging asked for, the first page carries every file; one commit per page is enough
            response = await self._call(
                f"comparing {base[:7]}...{head[:7]} of {repo}",
                lambda: self._gh.rest.repos.async_compare_commits(
                    owner, name, f"{base}...{head}", per_page=1, page=1
                ),
            )
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return _names(response.json().get("files") or [])
