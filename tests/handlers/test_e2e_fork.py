"""End to end: a fork's pull request waits for approval and never sees the project's secrets.

The app deployed here is examples/static plus tests/handlers/apps/env-echo/serve_env.py as
its start command (set in the commit's autostack.yml): it serves the same page, and
`/env/<NAME>` shows whether a variable reached the app's process. That asks the running
preview itself, which is what matters; the env provider or the log could only say what
AutoStack meant to pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

from deployer.envvars import set_env_var
from tests.handlers.doubles import pull_request, push
from tests.handlers.e2e_harness import APPS, E2E

HEAD, NEXT, MAIN = "f0" * 20, "f1" * 20, "f2" * 20
SECRET_VALUE = "tok-7f3c1b9e-never-in-a-fork"
T1, T2 = "2024-01-01T10:00:00Z", "2024-01-01T12:00:00Z"


def env_echo_commit(e2e: E2E, sha: str) -> str:
    server = (APPS / "env-echo" / "serve_env.py").read_text()
    config = f"build:\n  start: {Path(sys.executable)} serve_env.py\n"
    return e2e.commit(sha, {"serve_env.py": server, "autostack.yml": config})


async def test_fork_preview_waits_for_approval_and_gets_no_secrets(e2e: E2E):
    page = env_echo_commit(e2e, HEAD)
    await e2e.deliver("pull_request", pull_request("opened", sha=HEAD, fork=True, updated_at=T1))

    # nothing deployed on its own; the sticky comment explains why
    assert await e2e.deployments() == []
    assert e2e.github.check_runs == {} and e2e.github.deployments == {}
    assert (await e2e.get("pr-2")).status_code in (404, 502)
    [sticky] = [c for c in e2e.github.comments_on("Codertocat/Hello-World", 2)]
    assert "waits for approval" in sticky["body"] and f"`{HEAD[:7]}`" in sticky["body"]
    assert "secrets are not available" in sticky["body"]

    project = await e2e.project()
    keyring, sessions = e2e.services.keyring, e2e.services.sessions
    await set_env_var(sessions, keyring, project.id, "API_TOKEN", SECRET_VALUE, secret=True)
    await set_env_var(sessions, keyring, project.id, "GREETING", "hello")

    e2e.grant("reviewer", "write")
    approval = await e2e.comment("/deploy", "reviewer")
    assert e2e.reactions_on(approval) == ["eyes", "rocket"]
    [deployment] = await e2e.deployments("pr-2")
    assert (deployment.commit_sha, deployment.state, deployment.actor) == (HEAD, "ready", "reviewer")
    environment = await e2e.environment("pr-2")
    assert environment.untrusted and environment.approved_sha == HEAD
    assert (await e2e.get("pr-2")).text == page

    # the preview's process has the plain variable but not the secret
    greeting = await e2e.get("pr-2", "/env/GREETING")
    assert (greeting.status_code, greeting.text) == (200, "hello")
    secret = await e2e.get("pr-2", "/env/API_TOKEN")
    assert (secret.status_code, secret.text) == (404, "unset")
    assert SECRET_VALUE not in await e2e.log(deployment.id)

    # a new push to the fork needs a new approval: the approved commit keeps serving
    env_echo_commit(e2e, NEXT)
    await e2e.deliver("pull_request", pull_request("synchronize", sha=NEXT, fork=True, updated_at=T2))
    assert len(await e2e.deployments("pr-2")) == 1
    assert (await e2e.get("pr-2")).text == page

    # control: the same app deployed from the repository itself does get the secret
    env_echo_commit(e2e, MAIN)
    await e2e.deliver("push", push(sha=MAIN))
    trusted = await e2e.get("production", "/env/API_TOKEN")
    assert (trusted.status_code, trusted.text) == (200, SECRET_VALUE)
