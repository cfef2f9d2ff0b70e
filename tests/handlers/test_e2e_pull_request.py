"""End to end: a pull request's preview follows its head, one sticky comment, gone on close."""

from __future__ import annotations

import os

from bot.reporter.comment import MARKER
from deployer.targets.local.router import hostname_for
from tests.handlers.doubles import REPO, pull_request
from tests.handlers.e2e_harness import E2E, PROJECT

SHA1, SHA2, SHA3 = "a1" * 20, "b2" * 20, "c3" * 20
T1, T2, T3, T4 = (f"2024-01-01T10:0{m}:00Z" for m in range(4))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_preview_follows_the_head_and_goes_away_on_close(e2e: E2E):
    for sha in (SHA1, SHA2, SHA3):
        e2e.commit(sha)

    await e2e.deliver("pull_request", pull_request("opened", sha=SHA1, updated_at=T1))
    assert (await e2e.get("pr-2")).text == e2e.commit(SHA1)
    await e2e.deliver("pull_request", pull_request("synchronize", sha=SHA2, updated_at=T2))
    assert (await e2e.get("pr-2")).text == e2e.commit(SHA2)
    await e2e.deliver("pull_request", pull_request("synchronize", sha=SHA3, updated_at=T3))
    latest = await e2e.get("pr-2")
    assert latest.status_code == 200 and latest.text == e2e.commit(SHA3)

    # one preview URL the whole time, serving the latest head
    url = e2e.url("pr-2")
    deployments = await e2e.deployments("pr-2")
    assert [d.commit_sha for d in deployments] == [SHA1, SHA2, SHA3]
    assert {d.url for d in deployments} == {url}
    assert deployments[-1].state == "ready"

    # exactly one AutoStack comment, edited in place, naming the URL and the latest commit
    [comment] = e2e.github.comments_on(REPO, 2)
    assert comment["body"].startswith(MARKER)
    assert url in comment["body"] and f"`{SHA3[:7]}`" in comment["body"]
    assert comment["_edits"] >= 2

    for gh in e2e.github_deployments("Preview"):
        assert gh["_request"]["transient_environment"] is True
        assert gh["_request"]["production_environment"] is False

    host = hostname_for(PROJECT, "pr-2")
    process = e2e.target.live[host].supervisor.process
    assert process is not None and alive(process.pid)

    await e2e.deliver("pull_request", pull_request("closed", sha=SHA3, updated_at=T4))

    github_deployments = e2e.github_deployments("Preview")
    assert len(github_deployments) == 3
    for gh in github_deployments:
        assert e2e.deployment_states(gh)[-1] == "inactive"
    gone = await e2e.get("pr-2")
    assert gone.status_code in (404, 502)
    assert host not in e2e.target.live and not alive(process.pid)
    assert (await e2e.environment("pr-2")).state == "destroyed"
    assert len(e2e.github.comments_on(REPO, 2)) == 1


async def test_previews_share_one_github_environment_and_close_on_their_own(e2e: E2E):
    e2e.commit(SHA1)
    e2e.commit(SHA2)
    await e2e.deliver("pull_request", pull_request("opened", number=2, sha=SHA1, updated_at=T1))
    await e2e.deliver("pull_request", pull_request("opened", number=3, sha=SHA2, updated_at=T1))

    # one `Preview` GitHub Environment, never one per pull request; each its own URL
    assert {d["environment"] for d in e2e.github.deployments.values()} == {"Preview"}
    by_sha = {d["_request"]["ref"]: d for d in e2e.github_deployments("Preview")}
    assert set(by_sha) == {SHA1, SHA2}
    urls = {sha: e2e.github.deployment_statuses[d["id"]][-1]["environment_url"] for sha, d in by_sha.items()}
    assert urls == {SHA1: e2e.url("pr-2"), SHA2: e2e.url("pr-3")}
    assert urls[SHA1] != urls[SHA2]
    assert e2e.deployment_states(by_sha[SHA1]) == e2e.deployment_states(by_sha[SHA2]) == ["success"]

    await e2e.deliver("pull_request", pull_request("closed", number=3, sha=SHA2, updated_at=T2))
    assert e2e.deployment_states(by_sha[SHA2])[-1] == "inactive"
    assert e2e.deployment_states(by_sha[SHA1]) == ["success"]
    assert (await e2e.get("pr-2")).text == e2e.commit(SHA1)
