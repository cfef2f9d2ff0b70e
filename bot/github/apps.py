"""Choose the GitHub implementation for this process: the real App or a dry run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.github.api import GitHubAPI, GitHubApps, InstallationInfo
from bot.github.budget import Budget
from bot.github.dryrun import DryRunApps
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.github.hook_deliveries import HookDeliveries

log = logging.getLogger("autostack.github")


def github_apps(settings: Settings, *, dry_run: bool = False, budget: Budget | None = None) -> GitHubApps:
    """The real App when configured (and not a dry run), else a recorder that only logs;
    `budget` is the limiter its calls share with other processes."""
    if dry_run:
        return DryRunApps()
    if settings.app_id is None or settings.private_key is None:
        log.warning("APP_ID/PRIVATE_KEY not set: GitHub calls are logged, not made")
        return DryRunApps()
    # githubkit and its models weigh ~35 MB; a process with no App configured never loads them
    from bot.github.app import GitHubApp

    return GitHubApp(settings.app_id, settings.private_key, base_url=settings.github_api_url, budget=budget)


class SwitchableApps:
    """The App every part of the process holds: it forwards to the current one, so an App the
    setup page registers reaches the worker and the reporter without a restart."""

    def __init__(self, current: GitHubApps) -> None:
        self.current = current

    def installation(self, installation_id: int) -> GitHubAPI:
        """A client acting as the given installation of the current App."""
        return self.current.installation(installation_id)

    async def get_installation(self, installation_id: int) -> InstallationInfo:
        """Look up an installation of the current App."""
        return await self.current.get_installation(installation_id)

    def hook_deliveries(self) -> HookDeliveries | None:
        """The current App's webhook delivery log; None without App credentials (a dry run)."""
        # only the real App has one; the githubkit-free dry run and test doubles do not
        get = getattr(self.current, "hook_deliveries", None)
        return get() if get is not None else None


def registered_app(app_id: int, private_key: str, api_url: str, budget: Budget | None = None) -> GitHubApps:
    """The real App for credentials the setup page stored."""
    from bot.github.app import GitHubApp  # see github_apps: loaded only when an App is used

    return GitHubApp(app_id, private_key, base_url=api_url, budget=budget)
