"""End to end: commands in pull request comments, as the people who write them see them."""

from __future__ import annotations

from tests.handlers.doubles import pull_request, push
from tests.handlers.e2e_harness import BOT_LOGIN, E2E

SHA_MAIN1, SHA_MAIN2, SHA_PR = "d1" * 20, "d2" * 20, "e3" * 20
REUSE_PHASES = {"start", "health", "switch"}


async def open_pull_request(e2e: E2E, sha: str = SHA_PR) -> str:
    page = e2e.commit(sha)
    await e2e.deliver("pull_request", pull_request("opened", sha=sha, updated_at="2024-01-01T10:00:00Z"))
    assert (await e2e.get("pr-2")).text == page
    return page


async def test_deploy_production_needs_maintain(e2e: E2E):
    page = await open_pull_request(e2e)
    e2e.grant("reader", "read")
    e2e.grant("boss", "maintain")

    refused = await e2e.comment("/deploy production", "reader")
    assert e2e.reactions_on(refused) == ["eyes", "confused"]
    [reply] = e2e.replies()
    assert "@reader" in reply and "**maintain**" in reply and "read access" in reply
    assert await e2e.deployments("production") == []
    assert e2e.check_runs("AutoStack / production") == []
    assert (await e2e.get("production")).status_code in (404, 502)

    approved = await e2e.comment("/deploy production", "boss")
    assert e2e.reactions_on(approved) == ["eyes", "rocket"]
    [deployment] = await e2e.deployments("production")
    assert (deployment.commit_sha, deployment.state, deployment.actor) == (SHA_PR, "ready", "boss")
    served = await e2e.get("production")
    assert served.status_code == 200 and served.text == page
    [run] = e2e.check_runs("AutoStack / production")
    assert run["conclusion"] == "success" and run["head_sha"] == SHA_PR
    assert len(e2e.replies()) == 1  # nothing more to say on success


async def test_rollback_and_promote_reuse_the_earlier_build(e2e: E2E):
    e2e.grant("boss", "maintain")
    first = e2e.commit(SHA_MAIN1)
    e2e.commit(SHA_MAIN2)
    await e2e.deliver("push", push(sha=SHA_MAIN1, pushed_at=1_700_000_000))
    await e2e.deliver("push", push(sha=SHA_MAIN2, pushed_at=1_700_000_060))
    preview_page = await open_pull_request(e2e)
    built = await e2e.deployments()
    assert all("source" in d.phases and d.artifact for d in built)

    rolled = await e2e.comment("/rollback", "boss")
    assert e2e.reactions_on(rolled) == ["eyes", "rocket"]
    rollback = (await e2e.deployments("production"))[-1]
    assert rollback.state == "ready" and rollback.commit_sha == SHA_MAIN1
    assert rollback.artifact == built[0].artifact
    assert set(rollback.phases) <= REUSE_PHASES
    log = await e2e.log(rollback.id)
    assert f"reusing the build of deployment {built[0].id}" in log
    assert "detected" not in log and "fetched source" not in log
    assert (await e2e.get("production")).text == first

    promoted = await e2e.comment("/promote", "boss")
    assert e2e.reactions_on(promoted) == ["eyes", "rocket"]
    promotion = (await e2e.deployments("production"))[-1]
    preview = (await e2e.deployments("pr-2"))[-1]
    assert promotion.state == "ready" and promotion.commit_sha == SHA_PR
    assert promotion.artifact == preview.artifact
    assert set(promotion.phases) <= REUSE_PHASES
    assert f"reusing the build of deployment {preview.id}" in await e2e.log(promotion.id)
    assert (await e2e.get("production")).text == preview_page
    # only the three real builds fetched a tarball from GitHub
    assert len(e2e.github.calls_to("GET", r"/tarball/")) == 3
    runs = e2e.check_runs("AutoStack / production")
    assert [r["conclusion"] for r in runs] == ["success"] * 4


async def test_the_apps_own_comment_is_not_a_command(e2e: E2E):
    await open_pull_request(e2e)
    e2e.grant(BOT_LOGIN, "admin")
    before = len(e2e.github.calls)
    own = await e2e.comment("/deploy production\n/deploy", BOT_LOGIN, user_type="Bot")
    assert e2e.reactions_on(own) == []
    assert e2e.replies() == []
    assert await e2e.deployments("production") == []
    assert len(await e2e.deployments("pr-2")) == 1
    # not even a permission check or a token: GitHub heard nothing about it
    assert e2e.github.calls[before:] == []
