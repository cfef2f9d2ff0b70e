"""The githubkit session and its plumbing: async auth headers, and library failures made ours."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from githubkit import GitHub
from githubkit.auth.base import BaseAuthStrategy
from githubkit.exception import RequestError, RequestFailed
from pydantic import ValidationError

from bot.github.errors import GitHubError, GitHubPermanentError
from bot.github.ratelimit import HTTPFailure, TransportFailure

T = TypeVar("T")
USER_AGENT = "AutoStack"


class _HeaderAuth(httpx.Auth):
    """Sets the Authorization header from an async source (a cached token or a fresh JWT)."""

    def __init__(self, header: Callable[[], Awaitable[str]]) -> None:
        self._header = header

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("AutoStack's GitHub client is async only")

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = await self._header()
        yield request


@dataclass
class _HeaderAuthStrategy(BaseAuthStrategy):
    header: Callable[[], Awaitable[str]]

    def get_auth_flow(self, github: Any) -> httpx.Auth:
        return _HeaderAuth(self.header)


def github_session(base_url: str, header: Callable[[], Awaitable[str]]) -> GitHub[Any]:
    # Retries are ours (RetryPolicy); githubkit's HTTP cache would hide fresh check-run state.
    return GitHub(
        _HeaderAuthStrategy(header),
        base_url=base_url,
        user_agent=USER_AGENT,
        auto_retry=False,
        http_cache=False,
        timeout=30.0,
    )


def _failure(response: httpx.Response, body: Any) -> HTTPFailure:
    message = body.get("message", "") if isinstance(body, dict) else ""
    return HTTPFailure(response.status_code, dict(response.headers), str(message)[:300])


async def call_once(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """One attempt, with githubkit's and httpx's exceptions turned into ours."""
    try:
        return await call()
    except RequestFailed as exc:
        raw = exc.response.raw_response
        try:
            body = raw.json()
        except ValueError:
            body = None
        raise _failure(raw, body) from exc
    except RequestError as exc:
        # Token exchange runs inside the auth flow; its own error is already ours.
        if isinstance(exc.exc, GitHubError):
            raise exc.exc from exc
        if isinstance(exc.exc, httpx.TransportError):
            raise TransportFailure(type(exc.exc).__name__) from exc
        raise
    except ValidationError as exc:
        raise GitHubPermanentError(f"{what}: GitHub's answer did not parse") from exc


async def stream_to(gh: GitHub[Any], url: str, dest: Path, *, what: str, max_bytes: int) -> int:
    """Stream a GET of `url` into `dest` and return the byte count; error answers become `HTTPFailure`."""
    size = 0
    async with gh.get_async_client() as client, client.stream("GET", url) as response:
        if response.is_error:
            await response.aread()
            try:
                body = response.json()
            except ValueError:
                body = None
            raise _failure(response, body)
        handle = await asyncio.to_thread(dest.open, "wb")
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise GitHubPermanentError(f"{what}: the archive is larger than {max_bytes} bytes")
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
    return size
