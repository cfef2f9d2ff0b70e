"""Built-in variables and stored variables reach local builds and runs; secrets only where trusted."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from deployer.envvars import env_provider, set_env_var
from deployer.operations import queue_deployment
from store.encryption import KeyRing
from store.models import Environment, Project

SHA = "0123456789abcdef0123456789abcdef01234567"
SECRET = "tok-9f8e7d6c5b4a"
# the build writes what it saw into the page the app serves, and prints the secret it was given
APP_CONFIG = """\
build:
  build: >-
    mkdir -p public && printf '%s|%s|%s|%s|%s|secret=%s' "$AUTOSTACK_GIT_SHA" "$GREETING"
    "$AUTOSTACK_URL" "$AUTOSTACK_PR_NUMBER" "$AUTOSTACK_ENVIRONMENT" "${NPM_TOKEN:+present}"
    > public/index.html && echo "build sees NPM_TOKEN=$NPM_TOKEN"
  start: python3 -m http.server $PORT --bind 127.0.0.1 --directory public
"""


def _app(tmp_path: Path) -> Path:
    folder = tmp_path / "apps" / "buildenv"
    folder.mkdir(parents=True)
    (folder / "autostack.yml").write_text(APP_CONFIG)
    return folder


async def _store_vars(deployer, project: str = "demo") -> None:
    keyring = KeyRing(("test-key",))
    async with deployer.sessions() as session:
        project_id = await session.scalar(select(Project.id).where(Project.name == project))
    await set_env_var(deployer.sessions, keyring, project_id, "GREETING", "hello-plain")
    await set_env_var(deployer.sessions, keyring, project_id, "NPM_TOKEN", SECRET, secret=True)
    await set_env_var(deployer.sessions, keyring, project_id, "AUTOSTACK_GIT_SHA", "forged")
    deployer.env_for = env_provider(deployer.sessions, keyring)


async def test_build_sees_builtins_and_plain_vars_and_a_masked_secret(deployer, tmp_path):
    folder = _app(tmp_path)
    deployment_id = await queue_deployment(
        deployer.sessions, "demo", "production", trigger="cli", source=f"dir:{folder}", commit_sha=SHA
    )
    await _store_vars(deployer)

    row = await deployer.run(deployment_id)

    assert row.state == "ready", row.reason
    page = await deployer.get()
    url = deployer.target.url_for("demo", "production")
    # a stored AUTOSTACK_GIT_SHA does not replace the real one; no PR number outside previews
    assert page.text == f"{SHA}|hello-plain|{url}||production|secret=present"
    log = deployer.sink.log(row.id)
    assert "build sees NPM_TOKEN=•••" in log
    assert SECRET not in log
    assert "the stored AUTOSTACK_GIT_SHA is ignored" in log


async def test_untrusted_preview_build_gets_no_secret_but_its_pr_number(deployer, tmp_path):
    folder = _app(tmp_path)
    deployment_id = await queue_deployment(
        deployer.sessions, "demo", "pr-7", trigger="cli", source=f"dir:{folder}", commit_sha=SHA, pr_number=7
    )
    async with deployer.sessions.begin() as session:
        env = await session.scalar(select(Environment).where(Environment.name == "pr-7"))
        env.untrusted = True
    await _store_vars(deployer)

    row = await deployer.run(deployment_id)

    assert row.state == "ready", row.reason
    page = await deployer.get(env="pr-7")
    assert page.text == f"{SHA}|hello-plain|{deployer.target.url_for('demo', 'pr-7')}|7|pr-7|secret="
    assert "build sees NPM_TOKEN=\n" in deployer.sink.log(row.id) + "\n"
