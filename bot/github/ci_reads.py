"""The reads behind `deploy.after: checks`: which checks a branch requires, and how a
commit's checks stand. Metadata, contents, checks and statuses read permissions cover them;
branch protection's own endpoints (administration permission) are not needed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx

from bot.github.ci_payloads import check_runs, protection_checks, ruleset_checks, statuses
from bot.github.errors import GitHubPermanentError
from handlers.ports import CommitCheck

Call = Callable[[str, Callable[[], Awaitable[httpx.Response]]], Awaitable[httpx.Response]]
PAGE = 100
# a commit with more checks than this is not one anyone waits on; it bounds the calls
MAX_PAGES = 10


class CIReads:
    """Two paginated reads over githubkit, each call made through the client's `call`."""

    def __init__(self, call: Call, gh: Any) -> None:
        self._call, self._gh = call, gh

    async def _json(self, what: str, request: Callable[[], Awaitable[httpx.Response]]) -> Any:
        try:
            return (await self._call(what, request)).json()
        except GitHubPermanentError as exc:
            if exc.status == 404:  # no such branch (a ruleset still applies to its name)
                return None
            raise

    async def required_checks(self, repo: str, branch: str) -> list[str]:
        """The checks the branch's rulesets and its classic branch protection require."""
        owner, name = repo.split("/", 1)
        names: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            rules = await self._json(
                f"reading the rules of {repo}@{branch}",
                partial(
                    self._gh.rest.repos.async_get_branch_rules, owner, name, branch, per_page=PAGE, page=page
                ),
            )
            names += ruleset_checks(rules if isinstance(rules, list) else [])
            if not isinstance(rules, list) or len(rules) < PAGE:
                break
        branch_data = await self._json(
            f"reading branch {branch} of {repo}",
            lambda: self._gh.rest.repos.async_get_branch(owner, name, branch),
        )
        return sorted(set(names + protection_checks(branch_data)))

    async def commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        """The latest check run of each name and the latest status of each context on `sha`."""
        owner, name = repo.split("/", 1)
        found: list[CommitCheck] = []
        reads = (
            ("check runs", self._gh.rest.checks.async_list_for_ref, check_runs, "check_runs"),
            ("statuses", self._gh.rest.repos.async_get_combined_status_for_ref, statuses, "statuses"),
        )
        for kind, read, parse, items in reads:
            for page in range(1, MAX_PAGES + 1):
                answer = await self._json(
                    f"reading the {kind} of {repo}@{sha[:7]}",
                    partial(read, owner, name, sha, per_page=PAGE, page=page),
                )
                found += parse(answer)
                total = int((answer or {}).get("total_count") or 0)
                if len((answer or {}).get(items) or []) < PAGE or page * PAGE >= total:
                    break
        return found
