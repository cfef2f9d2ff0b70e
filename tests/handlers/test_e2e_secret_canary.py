"""End to end: a secret printed in every form, at build, at start and after going live,
shows up in no output: deployment log, GitHub (check runs, comments, statuses, Deployments),
the server's own log, the JSON API's answers, and the raw bytes of the database file.

The app is tests/handlers/apps/canary/canary.py. The secret is set on the project the way the
settings page does it (`set_env_var`, encrypted, `secret=True`); the build reads the same value
from a committed file, since builds get no secrets. The forms searched for are computed here
with base64, json and urllib, independently of the masker.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sys
import urllib.parse
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.deploy_wiring import deploy_service
from bot.logs import stream_handler
from bot.serve import serve_app
from bot.web.runtime import build_state
from deployer.envvars import set_env_var
from store.models import Deployment, DeploymentLog
from tests.handlers.doubles import push
from tests.handlers.e2e_harness import APPS, E2E

CANARY = 'cAn4ry"Tok\\en/ü+é=9f3b1c7e'
FIRST, CANARY_SHA = "c0" * 20, "c1" * 20


def needles(secret: str) -> dict[str, set[str]]:
    """Each printed form → the pieces of it that would give the secret away."""
    raw, half = secret.encode(), len(secret) // 2
    cores: dict[str, set[str]] = {"base64 std": set(), "base64 url-safe": set()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[(8 * shift + 5) // 6 : (8 * (shift + len(raw))) // 6]
        cores["base64 std"].add(core)
        cores["base64 url-safe"].add(core.translate(str.maketrans("+/", "-_")))
    return {
        "plain": {secret},
        "two halves": {secret[:half], secret[half:]},
        "wrapped": {secret[:7], secret[7:]},
        **cores,
        "json-escaped": {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]},
        "url-quoted": {urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)},
    }


def hits(outputs: dict[str, str | bytes]) -> dict[tuple[str, str], int]:
    """(form, output) → how often the output shows that form of the canary."""
    found = {}
    for form, pieces in needles(CANARY).items():
        for where, text in outputs.items():
            count = sum(text.count(p.encode()) if isinstance(text, bytes) else text.count(p) for p in pieces)
            found[(form, where)] = count
    return found


async def api_answers(e2e: E2E, project: str, deployment_id: int) -> str:
    """What the JSON API answers about the project, as `serve` wires it, read with the admin token."""
    deploy = deploy_service(e2e.services, e2e.runtime)
    app = serve_app(e2e.services, build_state(e2e.services, deploy, None))
    headers = await e2e.api_headers()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://autostack.test"
    ) as client:
        answers = []
        for path in (
            "/api/v1/deployments",
            f"/api/v1/projects/{project}/deployments",
            f"/api/v1/projects/{project}/env",
            f"/api/v1/deployments/{deployment_id}/logs",
            "/api/v1/projects",
        ):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            answers.append(response.text)
    return "\n".join(answers)


def canary_commit(e2e: E2E, sha: str) -> None:
    config = (
        "build:\n"
        f"  build: {Path(sys.executable)} canary.py build\n"
        f"  start: {Path(sys.executable)} canary.py serve\n"
    )
    app = (APPS / "canary" / "canary.py").read_text()
    e2e.commit(sha, {"canary.py": app, "canary.secret": CANARY, "autostack.yml": config})


async def test_a_canary_secret_reaches_no_output(e2e: E2E, tmp_path: Path):
    server_log = io.StringIO()
    handler = stream_handler(server_log)
    root = logging.getLogger()
    level, root.level = root.level, logging.INFO
    root.addHandler(handler)
    try:
        e2e.commit(FIRST)
        await e2e.deliver("push", push(sha=FIRST))
        project = await e2e.project()
        await set_env_var(
            e2e.services.sessions, e2e.services.keyring, project.id, "CANARY_TOKEN", CANARY, secret=True
        )

        canary_commit(e2e, CANARY_SHA)
        await e2e.deliver("push", push(sha=CANARY_SHA))
        deployment = (await e2e.deployments("production"))[-1]
        assert (deployment.commit_sha, deployment.state) == (CANARY_SHA, "ready"), deployment.reason
        # the app is live and keeps printing: wait for output made after the deployment ended
        for _ in range(300):
            seen = server_log.getvalue()
            if seen.count("canary tick") >= 3 and "[live] plain: •••" in seen:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # a held line is let go after 0.2 s
    finally:
        root.removeHandler(handler)
        root.level = level

    async with e2e.services.sessions() as session:
        lines = (await session.scalars(select(DeploymentLog.line).order_by(DeploymentLog.seq))).all()
        rows = (await session.scalars(select(Deployment))).all()
    deployment_log = "\n".join(lines)
    state = e2e.github
    github = json.dumps(
        [
            state.check_runs,
            state.comments,
            state.statuses,
            state.deployments,
            state.deployment_statuses,
            [call.body for call in state.calls],
        ],
        default=str,
        ensure_ascii=False,
    )
    database = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("autostack.db*")))
    api = await api_answers(e2e, project.name, deployment.id)

    # the canary really ran in every phase, so zero hits below means masked, not missing
    assert deployment_log.count("[build] plain: •••") == 1 and "[start] plain: •••" in deployment_log
    assert "[live] plain: •••" in server_log.getvalue() and "canary tick 2" in server_log.getvalue()
    assert "[build] json:" in github and any(r.reason is None for r in rows)
    assert "[build] plain: •••" in api

    outputs: dict[str, str | bytes] = {
        "deployment log": deployment_log,
        "deployment rows": json.dumps(
            [[r.reason, r.url, r.config] for r in rows], default=str, ensure_ascii=False
        ),
        "github": github,
        "server log": server_log.getvalue(),
        "database file": database,
        "api answers": api,
    }
    found = hits(outputs)
    assert len(found) == 7 * 6
    assert {key: n for key, n in found.items() if n} == {}
