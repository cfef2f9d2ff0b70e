"""End to end: `/lock`, `/unlock` and the lock a production rollback leaves behind."""

from __future__ import annotations

from bot.reporter.comment import MARKER
from store.models import EnvironmentLock
from tests.handlers.doubles import REPO, pull_request, push
from tests.handlers.e2e_harness import BOT_LOGIN, E2E

SHA_MAIN1, SHA_MAIN2, SHA_MAIN3, SHA_PR1, SHA_PR2 = "a1" * 20, "a2" * 20, "a3" * 20, "b1" * 20, "b2" * 20
LOCKED = "production is locked by @boss: incident 42; comment `/unlock` to resume"


def sticky(e2e: E2E) -> str:
    [comment] = [
        c["body"]
        for c in e2e.github.comments_on(REPO, 2)
        if c["user"]["login"] == BOT_LOGIN and c["body"].startswith(MARKER)
    ]
    return comment


async def open_pull_request(e2e: E2E) -> None:
    e2e.commit(SHA_PR1)
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA_PR1, updated_at="2024-01-01T10:00:00Z"))


async def test_a_locked_production_records_pushes_without_deploying_them(e2e: E2E):
    e2e.grant("boss", "maintain")
    e2e.grant("dev", "write")
    first = e2e.commit(SHA_MAIN1)
    e2e.commit(SHA_MAIN2)
    await e2e.deliver("push", push(sha=SHA_MAIN1, pushed_at=1_700_000_000))
    await open_pull_request(e2e)

    refused = await e2e.comment("/lock", "dev")
    assert e2e.reactions_on(refused) == ["eyes", "confused"]
    locked = await e2e.comment("/lock incident 42", "boss")
    assert e2e.reactions_on(locked) == ["eyes", "rocket"]
    assert f"🔒 {LOCKED}." in e2e.replies()[-1]
    async with e2e.services.sessions() as session:
        lock = await session.get(EnvironmentLock, 1)
    assert lock is not None and (lock.environment, lock.locked_by, lock.locked_reason) == (
        "production",
        "boss",
        "incident 42",
    )

    await e2e.deliver("push", push(sha=SHA_MAIN2, pushed_at=1_700_000_060))
    held = (await e2e.deployments("production"))[-1]
    assert (held.commit_sha, held.state, held.trigger) == (SHA_MAIN2, "cancelled", "push")
    assert held.reason == LOCKED and held.started_at is None
    assert (await e2e.get("production")).text == first  # still the first commit
    assert len(e2e.github.calls_to("GET", r"/tarball/")) == 2  # nothing fetched for the held push
    [run] = [r for r in e2e.check_runs("AutoStack / production") if r["head_sha"] == SHA_MAIN2]
    assert run["conclusion"] == "cancelled" and LOCKED in run["output"]["title"]
    assert LOCKED in run["output"]["summary"]
    status = e2e.github.statuses_for(SHA_MAIN2, "autostack/production")[-1]
    assert status["state"] == "error" and "production is locked by @boss" in status["description"]

    # the PR's sticky comment tells its readers that merging will not deploy now
    e2e.commit(SHA_PR2)
    await e2e.deliver(
        "pull_request", pull_request("synchronize", sha=SHA_PR2, updated_at="2024-01-01T12:00:00Z")
    )
    assert f"🔒 {LOCKED}." in sticky(e2e)

    unlocked = await e2e.comment("/unlock", "boss")
    assert e2e.reactions_on(unlocked) == ["eyes", "rocket"]
    e2e.commit(SHA_MAIN3)
    await e2e.deliver("push", push(sha=SHA_MAIN3, pushed_at=1_700_000_120))
    assert (await e2e.deployments("production"))[-1].state == "ready"
    assert SHA_MAIN3[:7] in (await e2e.get("production")).text


async def test_an_explicit_deploy_goes_through_a_lock_and_keeps_it(e2e: E2E):
    e2e.grant("boss", "maintain")
    await open_pull_request(e2e)
    await e2e.comment("/lock production incident 42", "boss")
    await e2e.comment("/deploy production", "boss")
    [deployment] = await e2e.deployments("production")
    assert (deployment.commit_sha, deployment.state) == (SHA_PR1, "ready")
    e2e.commit(SHA_MAIN1)
    await e2e.deliver("push", push(sha=SHA_MAIN1, pushed_at=1_700_000_000))
    assert (await e2e.deployments("production"))[-1].state == "cancelled"


async def test_a_rollback_locks_production_until_deploy_production(e2e: E2E):
    e2e.grant("boss", "maintain")
    first = e2e.commit(SHA_MAIN1)
    e2e.commit(SHA_MAIN2)
    await e2e.deliver("push", push(sha=SHA_MAIN1, pushed_at=1_700_000_000))
    await e2e.deliver("push", push(sha=SHA_MAIN2, pushed_at=1_700_000_060))
    await open_pull_request(e2e)

    await e2e.comment("/rollback", "boss")
    assert "production is locked by @boss: rolled back by @boss" in e2e.replies()[-1]
    e2e.commit(SHA_MAIN3)
    await e2e.deliver("push", push(sha=SHA_MAIN3, pushed_at=1_700_000_120))
    held = (await e2e.deployments("production"))[-1]
    assert held.state == "cancelled" and "rolled back by @boss" in (held.reason or "")
    assert (await e2e.get("production")).text == first  # the rollback stands

    await e2e.comment("/deploy production", "boss")
    assert (await e2e.deployments("production"))[-1].state == "ready"
    e2e.commit("a4" * 20)
    await e2e.deliver("push", push(sha="a4" * 20, pushed_at=1_700_000_180))
    latest = (await e2e.deployments("production"))[-1]
    assert (latest.commit_sha, latest.state) == ("a4" * 20, "ready")


async def test_a_locked_preview_holds_pull_request_updates(e2e: E2E):
    e2e.grant("boss", "maintain")
    await open_pull_request(e2e)
    await e2e.comment("/lock preview design review", "boss")
    e2e.commit(SHA_PR2)
    await e2e.deliver(
        "pull_request", pull_request("synchronize", sha=SHA_PR2, updated_at="2024-01-01T12:00:00Z")
    )
    held = (await e2e.deployments("pr-2"))[-1]
    assert (held.commit_sha, held.state) == (SHA_PR2, "cancelled")
    assert "pr-2 is locked by @boss: design review; comment `/unlock pr-2` to resume" in sticky(e2e)
    assert SHA_PR1[:7] in (await e2e.get("pr-2")).text
