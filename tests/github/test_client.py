"""The GitHub client against the stand-in: App auth, token caching, rate limits, calls."""

from __future__ import annotations

import asyncio
import gzip
import io
import tarfile
import time
from pathlib import Path

import jwt
import pytest

from bot.github.api import Annotation, CheckAction, CheckOutput
from bot.github.app import GitHubApp
from bot.github.auth import AppCredentials
from bot.github.errors import GitHubPermanentError, GitHubRateLimited, GitHubTemporaryError
from tests.github_standin.comments import add_comment
from tests.github_standin.state import State

REPO = "octo-org/shop"
SHA = "3f2a9c1e" * 5


def test_app_jwt_is_backdated_and_lives_ten_minutes(github_app_keys):
    now = 1_700_000_000.0
    token = AppCredentials(7, github_app_keys.private_pem, clock=lambda: now).jwt()
    claims = jwt.decode(
        token,
        github_app_keys.public_pem,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {"iat": int(now) - 60, "exp": int(now) + 540, "iss": "7"}


async def test_many_calls_one_token_exchange(github_app: GitHubApp, github_standin: State):
    client = github_app.installation(1)
    for _ in range(5):
        await client.create_commit_status(
            REPO,
            SHA,
            state="pending",
            context="autostack/pr-1",
            description="Waiting",
            target_url="http://x/1",
        )
    await asyncio.gather(
        *(
            client.create_commit_status(
                REPO,
                SHA,
                state="success",
                context=f"autostack/c{i}",
                description="ok",
                target_url="http://x/1",
            )
            for i in range(5)
        )
    )
    assert len(github_standin.calls_to("POST", r"/access_tokens$")) == 1
    assert len(github_standin.statuses_for(SHA)) == 10


async def test_expired_token_is_renewed(github_app: GitHubApp, github_standin: State):
    client = github_app.installation(1)
    github_standin.token_ttl = 200  # inside the five-minute margin: renewed before each use
    await client.create_reaction(REPO, add_comment(github_standin, REPO, 1, "/deploy"), "eyes")
    await client.create_reaction(REPO, add_comment(github_standin, REPO, 1, "/deploy"), "eyes")
    assert len(github_standin.calls_to("POST", r"/access_tokens$")) == 2


async def test_token_refused_with_401_is_refreshed_once(github_app, github_standin: State):
    client = github_app.installation(1)
    comment = add_comment(github_standin, REPO, 3, "/redeploy")
    await client.create_reaction(REPO, comment, "eyes")
    github_standin.revoke_tokens()
    await client.create_reaction(REPO, comment, "rocket")
    assert [r["content"] for r in github_standin.reactions] == ["eyes", "rocket"]
    assert len(github_standin.calls_to("POST", r"/access_tokens$")) == 2


async def test_bad_app_key_is_refused(github_standin_server, github_standin: State):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    app = GitHubApp(424242, other, base_url=github_standin_server.url)
    with pytest.raises(GitHubPermanentError) as caught:
        await app.installation(1).create_reaction(REPO, 1, "eyes")
    assert caught.value.status == 401
    assert "BEGIN" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "1"}, 1.0),
        (403, {"Retry-After": "2"}, 2.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+0"}, 1.0),
    ],
)
async def test_short_rate_limits_are_waited_out(
    github_app, github_standin: State, github_sleeps, status, headers, expected
):
    if headers.get("x-ratelimit-reset") == "+0":
        headers = {**headers, "x-ratelimit-reset": str(int(time.time()))}
    github_standin.fail_next(
        "POST", r"/statuses/", status, headers=headers, message="You have exceeded a secondary rate limit"
    )
    await github_app.installation(1).create_commit_status(
        REPO,
        SHA,
        state="pending",
        context="autostack/production",
        description="Queued",
        target_url="http://x/1",
    )
    assert len(github_sleeps) == 1
    assert expected - 1 <= github_sleeps[0] <= expected + 1
    assert [c.status for c in github_standin.calls_to("POST", "/statuses/")] == [status, 201]


@pytest.mark.parametrize("secondary", [True, False])
async def test_a_long_limit_is_raised_with_its_wait_and_blocks_the_installation(
    github_app, github_standin: State, github_sleeps, secondary
):
    github_standin.limit(1800, secondary=secondary)
    client = github_app.installation(1)
    with pytest.raises(GitHubRateLimited) as caught:
        await client.get_collaborator_permission(REPO, "boss")
    assert 1795 <= caught.value.retry_after <= 1802
    assert github_sleeps == []  # nothing slept: the caller defers
    # the installation is blocked until the reset: no more requests reach GitHub meanwhile
    with pytest.raises(GitHubRateLimited) as again:
        await client.create_reaction(REPO, 1, "eyes")
    assert again.value.retry_after > 1790
    asked = [c for c in github_standin.calls if "/access_tokens" not in c.path]
    assert [(c.method, c.status) for c in asked] == [("GET", 403)]


async def test_real_retry_after_one_second(github_standin_server, github_app_keys, github_standin):
    app = GitHubApp(424242, github_app_keys.private_pem, base_url=github_standin_server.url)
    github_standin.fail_next("POST", "/statuses/", 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    await app.installation(1).create_commit_status(
        REPO,
        SHA,
        state="success",
        context="autostack/production",
        description="Live",
        target_url="http://x/1",
    )
    assert time.monotonic() - started >= 1.0
    assert len(github_standin.statuses_for(SHA)) == 1


async def test_rate_limit_too_long_is_a_temporary_error(github_app, github_standin, github_sleeps):
    github_standin.fail_next("POST", "/statuses/", 429, headers={"Retry-After": "3600"})
    with pytest.raises(GitHubTemporaryError) as caught:
        await github_app.installation(1).create_commit_status(
            REPO,
            SHA,
            state="pending",
            context="autostack/x",
            description="",
            target_url="http://x",
        )
    assert caught.value.retry_after == 3600
    assert github_sleeps == []


async def test_server_errors_back_off_then_give_up(github_app, github_standin, github_sleeps):
    github_standin.fail_next("POST", "/statuses/", 502, message="Server Error", times=10)
    with pytest.raises(GitHubTemporaryError):
        await github_app.installation(1).create_commit_status(
            REPO,
            SHA,
            state="pending",
            context="autostack/x",
            description="",
            target_url="http://x",
        )
    assert github_sleeps == [1.0, 2.0, 4.0]


async def test_check_run_round_trip(github_app, github_standin: State):
    client = github_app.installation(1)
    run_id = await client.create_check_run(
        REPO,
        name="AutoStack / pr-1",
        head_sha=SHA,
        status="queued",
        external_id="1",
        details_url="http://autostack/deployments/1",
        output=CheckOutput("Queued", "waiting"),
    )
    await client.update_check_run(
        REPO,
        run_id,
        conclusion="failure",
        output=CheckOutput("Failed", "boom", "log", (Annotation("src/a.ts", 3, "bad", start_column=2),)),
        actions=(CheckAction("Redeploy", "Build again", "redeploy"),),
    )
    run = github_standin.check_runs[run_id]
    assert run["_history"] == ["queued", "completed"]
    assert run["conclusion"] == "failure"
    assert run["_annotations"][0]["start_column"] == 2


async def test_comments_permission_installation(github_app, github_standin: State):
    client = github_app.installation(1)
    for n in range(120):
        add_comment(github_standin, REPO, 9, f"comment {n}")
    created = await client.create_issue_comment(REPO, 9, "hello")
    assert created.author_is_bot
    comments = await client.list_issue_comments(REPO, 9)
    assert len(comments) == 121 and comments[-1].id == created.id
    await client.update_issue_comment(REPO, created.id, "edited")
    assert github_standin.comments[created.id]["body"] == "edited"
    github_standin.permissions[(REPO, "alice")] = "maintain"
    assert await client.get_collaborator_permission(REPO, "alice") == "maintain"
    info = await github_app.get_installation(1)
    assert (info.id, info.account_login) == (1, "octo-org")


def _tarball(size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = b"x" * size
        info = tarfile.TarInfo("shop-abc/README.md")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def test_tarball_streams_to_file_and_is_capped(github_app, github_standin, tmp_path: Path):
    archive = _tarball(1000)
    github_standin.add_tarball(REPO, SHA, archive)
    client = github_app.installation(1)
    dest = tmp_path / "src.tar.gz"
    assert await client.download_tarball(REPO, SHA, dest, max_bytes=1 << 20) == len(archive)
    assert gzip.decompress(dest.read_bytes())
    with pytest.raises(GitHubPermanentError, match="larger than"):
        await client.download_tarball(REPO, SHA, tmp_path / "big.tar.gz", max_bytes=10)
    assert not (tmp_path / "big.tar.gz").exists()
