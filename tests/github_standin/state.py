"""What the stand-in remembers: every call, the objects GitHub would hold, and the faults a
test asked for."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.github_standin.limits import RateLimits


@dataclass(frozen=True)
class Call:
    """One request the stand-in received and how it answered."""

    method: str
    path: str
    body: Any
    status: int
    query: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)  # when it was answered

    @property
    def endpoint(self) -> str:
        """`METHOD /path/template` with ids replaced, for counting calls by endpoint."""
        path = re.sub(r"/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}", self.path)
        path = re.sub(r"/\d+(?=/|$)", "/{id}", path)
        path = re.sub(r"/(statuses|tarball|git/trees)/[^/]+", r"/\1/{ref}", path)
        path = re.sub(r"/git/blobs/[^/]+", "/git/blobs/{sha}", path)
        return f"{self.method} {path}"


@dataclass
class Fault:
    """Answer the next matching requests with an error (rate limits, outages)."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    message: str
    times: int


@dataclass(frozen=True)
class Latency:
    """Answer matching requests only after `seconds` (GitHub on a slow day)."""

    method: str
    path: re.Pattern[str]
    seconds: float


class State:
    """The stand-in's memory; safe to read from the test while the server thread writes."""

    def __init__(self, app_id: int, public_key: str) -> None:
        self.app_id = app_id
        self.public_key = public_key
        self.lock = threading.Lock()
        # the App key the manifest flow hands out (None: the documented example's)
        self.private_pem: str | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (between tests)."""
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.latencies: list[Latency] = []
        self.limits = RateLimits()
        self.token_ttl = 3600.0
        self.tokens: dict[str, tuple[int, float]] = {}
        self.installations: dict[int, str] = {1: "octo-org"}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.deployments: dict[int, dict[str, Any]] = {}
        self.deployment_statuses: dict[int, list[dict[str, Any]]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.reactions: list[dict[str, Any]] = []
        self.permissions: dict[tuple[str, str], str] = {}
        self.tarballs: dict[tuple[str, str], bytes] = {}
        # (repo, path, ref); ref None is the default branch
        self.files: dict[tuple[str, str, str | None], str] = {}
        # required checks of (repo, branch): by a ruleset, and by classic branch protection
        self.ruleset_checks: dict[tuple[str, str], list[str]] = {}
        self.protection_checks: dict[tuple[str, str], list[str]] = {}
        # a repository's branches (repositories not listed have `master` only)
        self.branches: dict[str, set[str]] = {}
        # changed paths of a pull request (repo, number) and of a comparison (repo, base, head)
        self.pull_files: dict[tuple[str, int], list[str]] = {}
        self.compared: dict[tuple[str, str, str], list[str]] = {}
        self.ids = itertools.count(1000)
        # OAuth web flow: registered clients, who is signed in at "github.com", codes and user tokens
        self.oauth_clients: dict[str, str] = {}
        self.oauth_login: str | None = None
        self.oauth_codes: dict[str, str] = {}
        self.user_tokens: dict[str, str] = {}
        self.users: dict[str, int] = {}
        self.org_roles: dict[tuple[str, str], str] = {}
        # App manifest flow: code → the manifest GitHub was given
        self.manifest_codes: dict[str, dict[str, Any]] = {}
        # the App's webhook: where (re)deliveries go, the secret they are signed with, and the
        # delivery log (one entry per attempt, see hook_deliveries.py)
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.hook_attempts: list[dict[str, Any]] = []

    # Test controls

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        message: str = "API rate limit exceeded",
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests whose path matches the regex with `status`."""
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, message, times))

    def answer_slowly(self, method: str, path: str, seconds: float) -> None:
        """Answer every request whose path matches the regex only after `seconds`."""
        self.latencies.append(Latency(method, re.compile(path), seconds))

    def latency(self, method: str, path: str) -> float:
        """How long a request waits before it is answered."""
        return sum(
            slow.seconds for slow in self.latencies if slow.method == method and slow.path.search(path)
        )

    def limit(self, seconds: float, *, secondary: bool = True) -> None:
        """Refuse installation requests for `seconds` with a secondary limit (403, retry-after)
        or a primary one (403, x-ratelimit-remaining 0 and x-ratelimit-reset)."""
        self.limits.impose(seconds, secondary=secondary)

    def expire_tokens(self) -> None:
        """Make every issued installation token expired, as if an hour had passed."""
        self.tokens = {token: (iid, time.time() - 1) for token, (iid, _) in self.tokens.items()}

    def revoke_tokens(self) -> None:
        """Forget every issued token: the next use is answered 401."""
        self.tokens.clear()

    def add_tarball(self, repo: str, ref: str, data: bytes) -> None:
        """Serve `data` as the tar.gz of `repo` at `ref`."""
        self.tarballs[(repo, ref)] = data

    def add_file(self, repo: str, path: str, text: str, ref: str | None = None) -> None:
        """Serve `text` as `path` of `repo` at `ref` (None: the default branch)."""
        self.files[(repo, path, ref)] = text

    def require_checks(
        self, repo: str, branch: str, *, ruleset: list[str] | None = None, protection: list[str] | None = None
    ) -> None:
        """Make the branch require checks: through a ruleset, classic branch protection, or both."""
        self.ruleset_checks[(repo, branch)] = list(ruleset or [])
        self.protection_checks[(repo, branch)] = list(protection or [])

    def add_user(self, login: str, *, orgs: dict[str, str] | None = None) -> int:
        """A GitHub user (with org roles 'admin' / 'member'); returns their id."""
        self.users.setdefault(login, 5000 + len(self.users))
        for org, role in (orgs or {}).items():
            self.org_roles[(org, login)] = role
        return self.users[login]

    # Assertion helpers

    def calls_to(self, method: str, pattern: str = "") -> list[Call]:
        """The recorded calls with this method whose path matches the regex."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.search(c.path)]

    def endpoint_counts(self) -> dict[str, int]:
        """How many calls each endpoint received."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.endpoint] = counts.get(call.endpoint, 0) + 1
        return counts

    def comments_on(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments on an issue or pull request, oldest first."""
        return [c for c in self.comments.values() if c["_repo"] == repo and c["_number"] == number]

    def statuses_for(self, sha: str, context: str | None = None) -> list[dict[str, Any]]:
        """Commit statuses set on a commit, oldest first."""
        return [s for s in self.statuses if s["_sha"] == sha and context in (None, s["context"])]

    def next_id(self) -> int:
        """A fresh object id."""
        return next(self.ids)
