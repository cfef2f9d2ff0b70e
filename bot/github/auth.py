"""GitHub App authentication: the App's JWT and cached installation access tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import jwt

JWT_LIFETIME = 600
# GitHub rejects a JWT issued "in the future"; backdating covers a clock that runs ahead.
CLOCK_SKEW = 60
# Renew this long before expiry so a token never dies in the middle of a deployment.
REFRESH_MARGIN = 300


@dataclass(frozen=True, slots=True)
class InstallationToken:
    """An installation access token and when it stops working (epoch seconds)."""

    token: str = field(repr=False)
    expires_at: float


class AppCredentials:
    """Signs the short-lived RS256 JWTs that identify the App itself."""

    def __init__(self, app_id: int, private_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self.app_id = app_id
        self._private_key = private_key
        self._clock = clock
        self._cached: tuple[str, float] | None = None

    def __repr__(self) -> str:
        return f"AppCredentials(app_id={self.app_id})"

    def jwt(self) -> str:
        """A JWT valid for about ten minutes, reused until a minute before it expires."""
        now = self._clock()
        if self._cached is not None and self._cached[1] - CLOCK_SKEW > now:
            return self._cached[0]
        issued = int(now) - CLOCK_SKEW
        expires = issued + JWT_LIFETIME
        token = jwt.encode(
            {"iat": issued, "exp": expires, "iss": str(self.app_id)},
            self._private_key,
            algorithm="RS256",
        )
        self._cached = (token, float(expires))
        return token


Exchange = Callable[[int], Awaitable[InstallationToken]]


class InstallationTokens:
    """Installation tokens fetched on demand and cached per installation until near expiry."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self._exchange = exchange
        self._clock = clock
        self._margin = refresh_margin
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, installation_id: int) -> str:
        """A token for the installation, exchanging the App JWT for a new one when needed."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and cached.expires_at - self._margin > self._clock():
                return cached.token
            fresh = await self._exchange(installation_id)
            self._tokens[installation_id] = fresh
            return fresh.token

    def invalidate(self, installation_id: int) -> None:
        """Forget the cached token (GitHub answered 401 with it)."""
        self._tokens.pop(installation_id, None)
