"""First-run setup through the manifest flow (stand-in), app.yml, and the JSON API."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import httpx
import yaml
from sqlalchemy import select, text

from bot.web.setup import MANIFEST_PATH, load_registered_app, manifest
from store.models import ApiToken, StoredSecret
from store.teams import token_hash
from tests.web import harness

PERMISSIONS = {
    "checks": "write",
    "statuses": "write",
    "deployments": "write",
    "pull_requests": "write",
    "issues": "read",
    "contents": "read",
    "metadata": "read",
    "members": "read",
    "merge_queues": "read",
    # workflow_run (wait for CI) is only delivered to Apps that may read Actions
    "actions": "read",
}
EVENTS = {
    "push",
    "pull_request",
    "issue_comment",
    "check_run",
    "check_suite",
    "workflow_run",
    "status",
    "delete",
    "repository",
    "merge_group",
}


def test_app_yml_asks_for_exactly_the_product_permissions():
    app = yaml.safe_load(MANIFEST_PATH.read_text())
    assert app["default_permissions"] == PERMISSIONS and set(app["default_events"]) == EVENTS
    built = manifest(app, "https://autostack.example.com", "/api/github/webhooks")
    assert built["hook_attributes"]["url"] == "https://autostack.example.com/api/github/webhooks"
    assert built["redirect_url"] == "https://autostack.example.com/setup/callback"


async def test_manifest_flow_stores_credentials_encrypted_and_enables_sign_in(
    sessions, tmp_path, github_standin, github_standin_server, seeded_owner_cookie
):
    state = harness.web_state(sessions, tmp_path, github_api_url=github_standin_server.url)
    cookie = await seeded_owner_cookie(state)
    async with harness.client(state, cookie) as owner:
        page = (await owner.get("/setup")).text
        action = html.unescape(page.split('<form method="post" action="')[1].split('"')[0])
        body = html.unescape(page.split('name="manifest" value="')[1].split('">')[0])
        async with httpx.AsyncClient() as github:
            created = await github.post(action, data={"manifest": body})
        back = urlsplit(created.headers["location"])
        assert back.path == "/setup/callback"
        done = await owner.get(f"{back.path}?{back.query}")
    assert done.status_code == 200 and "Registered the GitHub App" in done.text
    assert state.oauth.client_id and state.oauth.client_id.startswith("Iv1.standin")
    async with sessions() as session:
        names = set((await session.scalars(select(StoredSecret.name))).all())
        blobs = (await session.execute(text("SELECT ciphertext FROM stored_secrets"))).scalars().all()
    assert names == {"app_id", "private_key", "webhook_secret", "client_id", "client_secret"}
    assert all(state.oauth.client_secret.encode() not in blob for blob in blobs)
    restarted = harness.web_state(sessions, tmp_path)
    await load_registered_app(restarted)
    assert restarted.oauth.client_id == state.oauth.client_id


async def test_api_sets_and_lists_env_without_secret_values(as_role, seeded, web):
    async with web.sessions.begin() as session:
        session.add(ApiToken(team_id=seeded.team_id, name="ci", token_hash=token_hash("k"), role="developer"))
    client = as_role("viewer")
    client.cookies.clear()
    headers = {"authorization": "Bearer k"}
    put = await client.put(
        "/api/v1/projects/shop/env/DB_PASSWORD", json={"value": "hunter2", "secret": True}, headers=headers
    )
    assert put.status_code == 200
    listed = (await client.get("/api/v1/projects/shop/env", headers=headers)).json()
    assert listed == [{"key": "DB_PASSWORD", "scope": "all", "secret": True, "value": None}]
    bad = await client.put("/api/v1/projects/shop/env/1X", json={"value": "v"}, headers=headers)
    assert bad.status_code == 400
    projects = (await client.get("/api/v1/projects", headers=headers)).json()
    assert projects == [{"name": "shop", "repository": "octo-org/shop"}]
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.") and "/api/v1/projects" in spec["paths"]
