"""The GitHub calls handlers added, through the real client against the stand-in."""

from __future__ import annotations

from bot.github.app import GitHubApp
from bot.github.dryrun import DryRunGitHub
from handlers.ports import GitHubPort
from tests.github_standin.contents import git_blob_sha
from tests.github_standin.state import State

REPO = "octo-org/shop"
CONFIG = "branches: [staging]\n"


async def test_root_files_then_the_config_blob(github_app: GitHubApp, github_standin: State):
    github_standin.add_file(REPO, "autostack.yml", CONFIG)
    github_standin.add_file(REPO, "web/autostack.yaml", "not at the root\n")
    client: GitHubPort = github_app.installation(1)
    files = await client.root_files(REPO, "main")
    assert files == {"autostack.yml": git_blob_sha(CONFIG)}
    assert await client.blob_text(REPO, files["autostack.yml"]) == CONFIG
    assert [call.endpoint for call in github_standin.calls[1:]] == [
        "GET /repos/{owner}/{repo}/git/trees/{ref}",
        "GET /repos/{owner}/{repo}/git/blobs/{sha}",
    ]


async def test_a_repository_without_commits_has_no_files(github_app: GitHubApp, github_standin: State):
    github_standin.fail_next("GET", "/git/trees/", 409, message="Git Repository is empty.")
    client: GitHubPort = github_app.installation(1)
    assert await client.root_files(REPO, "main") == {}


async def test_a_stranger_has_no_access(github_app: GitHubApp, github_standin: State):
    github_standin.permissions[(REPO, "boss")] = "maintain"
    client: GitHubPort = github_app.installation(1)
    assert await client.get_collaborator_permission(REPO, "boss") == "maintain"
    assert await client.get_collaborator_permission(REPO, "stranger") == "none"


async def test_the_dry_run_reads_no_files():
    dry: GitHubPort = DryRunGitHub()
    assert await dry.root_files(REPO, "main") == {}
