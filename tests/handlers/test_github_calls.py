"""The GitHub calls handlers added, through the real client against the stand-in."""

from __future__ import annotations

from bot.github.app import GitHubApp
from bot.github.dryrun import DryRunGitHub
from handlers.ports import GitHubPort
from tests.github_standin.state import State

REPO = "octo-org/shop"


async def test_config_file_from_the_default_branch(github_app: GitHubApp, github_standin: State):
    github_standin.add_file(REPO, "autostack.yml", "branches: [staging]\n")
    client: GitHubPort = github_app.installation(1)
    assert await client.get_file_text(REPO, "autostack.yml") == "branches: [staging]\n"
    assert await client.get_file_text(REPO, "autostack.yaml") is None


async def test_a_stranger_has_no_access(github_app: GitHubApp, github_standin: State):
    github_standin.permissions[(REPO, "boss")] = "maintain"
    client: GitHubPort = github_app.installation(1)
    assert await client.get_collaborator_permission(REPO, "boss") == "maintain"
    assert await client.get_collaborator_permission(REPO, "stranger") == "none"


async def test_the_dry_run_reads_no_files():
    dry: GitHubPort = DryRunGitHub()
    assert await dry.get_file_text(REPO, "autostack.yml") is None
