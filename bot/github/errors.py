"""The kinds of GitHub failure the rest of AutoStack handles."""

from __future__ import annotations

from store.errors import PermanentError, TemporaryError


class GitHubError(Exception):
    """A GitHub call failed; the message says what was being done (never with a secret)."""


class GitHubTemporaryError(GitHubError, TemporaryError):
    """Worth retrying later: rate limits, 5xx, timeouts, network failures."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GitHubRateLimited(GitHubTemporaryError):
    """GitHub (or our own budget for it) says wait `retry_after` seconds: defer, do not sleep."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after: float = retry_after


class GitHubPermanentError(GitHubError, PermanentError):
    """Retrying will not help: bad request, missing permission, not found."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
