"""End to end: `previews.when` on the default branch's autostack.yml (label and command modes)."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import payload
from tests.handlers.doubles import REPO, pull_request, validated
from tests.handlers.e2e_harness import E2E

SHA1, SHA2 = "c1" * 20, "c2" * 20
LABEL = "deploy preview"


def with_labels(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """The pull request carrying labels `names`, shaped like the real payload's `bug` label."""
    real = payload("pull_request/labeled")["label"]
    body["pull_request"]["labels"] = [
        dict(real, id=real["id"] + i, name=name, url=f"{real['url'].rsplit('/', 1)[0]}/{i}")
        for i, name in enumerate(names)
    ]
    return body


def label_event(
    action: str, name: str, *, sha: str, updated_at: str, labels: tuple[str, ...]
) -> dict[str, Any]:
    """GitHub's real `labeled` / `unlabeled` delivery, for the label `name` on PR #2 at `sha`."""
    body = copy.deepcopy(payload(f"pull_request/{action}"))
    pull = body["pull_request"]
    pull.update(updated_at=updated_at)
    pull["head"]["sha"] = sha
    with_labels(body, *labels)
    body["label"] = dict(body["label"], name=name)
    return validated("pull_request", action, body)


async def test_label_mode_deploys_while_the_label_is_on(e2e: E2E):
    e2e.github.add_file(REPO, "autostack.yml", f"previews:\n  when: 'label:{LABEL}'\n")
    page = e2e.commit(SHA1)
    opened = with_labels(pull_request("opened", sha=SHA1, updated_at="2024-01-01T10:00:00Z"), "bug")
    await e2e.deliver("pull_request", opened)
    assert await e2e.deployments("pr-2") == []
    assert e2e.check_runs("AutoStack / pr-2") == []

    # another label does nothing
    await e2e.deliver(
        "pull_request",
        label_event("labeled", "bug", sha=SHA1, updated_at="2024-01-01T10:01:00Z", labels=("bug",)),
    )
    assert await e2e.deployments("pr-2") == []

    await e2e.deliver(
        "pull_request",
        label_event("labeled", LABEL, sha=SHA1, updated_at="2024-01-01T10:02:00Z", labels=("bug", LABEL)),
    )
    [deployment] = await e2e.deployments("pr-2")
    assert (deployment.commit_sha, deployment.state) == (SHA1, "ready")
    assert (await e2e.get("pr-2")).text == page

    # while it carries the label, new commits deploy
    e2e.commit(SHA2)
    synchronized = with_labels(
        pull_request("synchronize", sha=SHA2, updated_at="2024-01-01T11:00:00Z"), LABEL
    )
    await e2e.deliver("pull_request", synchronized)
    assert [d.commit_sha for d in await e2e.deployments("pr-2")] == [SHA1, SHA2]

    await e2e.deliver(
        "pull_request",
        label_event("unlabeled", LABEL, sha=SHA2, updated_at="2024-01-01T12:00:00Z", labels=("bug",)),
    )
    assert (await e2e.environment("pr-2")).state == "destroyed"
    assert (await e2e.get("pr-2")).status_code in (404, 502)
    [github_deployment, *_] = e2e.github_deployments("Preview")
    assert "inactive" in e2e.deployment_states(github_deployment)


async def test_command_mode_waits_for_deploy(e2e: E2E):
    e2e.github.add_file(REPO, "autostack.yml", "previews: {when: command}\n")
    e2e.grant("dev", "write")
    e2e.commit(SHA1)
    await e2e.deliver("pull_request", pull_request("opened", sha=SHA1, updated_at="2024-01-01T10:00:00Z"))
    assert await e2e.deployments("pr-2") == []

    asked = await e2e.comment("/deploy preview", "dev")
    assert e2e.reactions_on(asked) == ["eyes", "rocket"]
    [deployment] = await e2e.deployments("pr-2")
    assert (deployment.commit_sha, deployment.state, deployment.trigger) == (SHA1, "ready", "command")

    # once someone made it, the preview follows the pull request's new commits
    page = e2e.commit(SHA2)
    await e2e.deliver(
        "pull_request", pull_request("synchronize", sha=SHA2, updated_at="2024-01-01T12:00:00Z")
    )
    assert [d.commit_sha for d in await e2e.deployments("pr-2")] == [SHA1, SHA2]
    assert (await e2e.get("pr-2")).text == page
