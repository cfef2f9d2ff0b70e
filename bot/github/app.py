"""The GitHub App itself: its JWT, installation tokens, and a client per installation."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from bot.github.api import InstallationInfo
from bot.github.auth import AppCredentials, InstallationToken, InstallationTokens
from bot.github.budget import Budget, LocalBudget
from bot.github.client import InstallationClient
from bot.github.hook_deliveries import HookDeliveries
from bot.github.ratelimit import RetryPolicy
from bot.github.session import call_once, github_session


class GitHubApp:
    """The App: signs JWTs, exchanges them for installation tokens, hands out clients."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        *,
        base_url: str = "https://api.github.com",
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        budget: Budget | None = None,
    ) -> None:
        self.credentials = AppCredentials(app_id, private_key, clock=clock)
        self._base_url = base_url
        self._policy = policy or RetryPolicy()
        # shared through Redis in serve and worker (bot.github.apps); per process otherwise
        self.budget = budget or LocalBudget()
        self._app_gh = github_session(base_url, self._jwt_header)
        self.tokens = InstallationTokens(self._exchange, clock=clock)
        self._clients: dict[int, InstallationClient] = {}

    async def _jwt_header(self) -> str:
        return f"Bearer {self.credentials.jwt()}"

    async def _exchange(self, installation_id: int) -> InstallationToken:
        what = f"getting an access token for installation {installation_id}"
        response = await self._policy.run(
            what,
            lambda: call_once(
                what,
                lambda: self._app_gh.rest.apps.async_create_installation_access_token(installation_id),
            ),
        )
        data = response.parsed_data
        expires = datetime.fromisoformat(str(data.expires_at).replace("Z", "+00:00"))
        return InstallationToken(token=data.token, expires_at=expires.timestamp())

    def hook_deliveries(self) -> HookDeliveries:
        """The App's webhook delivery log, read and redelivered with the App's JWT."""
        return HookDeliveries(self._app_gh)

    def installation(self, installation_id: int) -> InstallationClient:
        """A client acting as the given installation (one per installation, reused)."""
        client = self._clients.get(installation_id)
        if client is None:
            client = InstallationClient(
                installation_id, self.tokens, self._base_url, self._policy, self.budget
            )
            self._clients[installation_id] = client
        return client

    async def get_installation(self, installation_id: int) -> InstallationInfo:
        """Look up an installation of this App."""
        what = f"looking up installation {installation_id}"
        response = await self._policy.run(
            what,
            lambda: call_once(what, lambda: self._app_gh.rest.apps.async_get_installation(installation_id)),
        )
        data = response.parsed_data
        account = data.account
        return InstallationInfo(
            id=data.id,
            account_login=str(getattr(account, "login", None) or getattr(account, "slug", "")),
            account_type=data.target_type,
            suspended=data.suspended_at is not None,
        )
