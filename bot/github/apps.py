"""Choose the GitHub implementation for this process: the real App or a dry run."""

from __future__ import annotations

import logging

from bot.github.api import GitHubApps
from bot.github.dryrun import DryRunApps
from bot.settings import Settings

log = logging.getLogger("autostack.github")


def github_apps(settings: Settings, *, dry_run: bool = False) -> GitHubApps:
    """The real App when configured (and not a dry run), else a recorder that only logs."""
    if dry_run:
        return DryRunApps()
    if settings.app_id is None or settings.private_key is None:
        log.warning("APP_ID/PRIVATE_KEY not set: GitHub calls are logged, not made")
        return DryRunApps()
    # githubkit and its models weigh ~35 MB; a process with no App configured never loads them
    from bot.github.app import GitHubApp

    return GitHubApp(settings.app_id, settings.private_key, base_url=settings.github_api_url)
