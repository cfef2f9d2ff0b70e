"""The App the setup page registers takes effect at once: webhooks signed with its secret are
accepted (and the old secret's refused), GitHub calls go out as it, and a restart keeps it."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import httpx
import pytest

from bot.web.setup import load_registered_app
from store.models import StoredSecret
from store.rotation import stored_secret_context
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running
from tests.web import harness

OLD_SECRET = "old-secret"


@pytest.fixture
def standin_key(github_standin, github_app_keys):
    # the manifest conversion hands out the key the stand-in verifies App tokens with
    github_standin.private_pem = github_app_keys.private_pem
    yield
    github_standin.private_pem = None


async def stored_webhook_secret(state) -> str:
    """The webhook secret GitHub returned, as the setup callback stored it."""
    async with state.sessions() as session:
        row = await session.get(StoredSecret, "webhook_secret")
    return state.keyring.decrypt(row.key_id, row.ciphertext, stored_secret_context("webhook_secret"))


async def register_app(state, owner: httpx.AsyncClient) -> httpx.Response:
    """Go through the manifest flow the way the browser and GitHub would."""
    page = (await owner.get("/setup")).text
    action = html.unescape(page.split('<form method="post" action="')[1].split('"')[0])
    body = html.unescape(page.split('name="manifest" value="')[1].split('">')[0])
    async with httpx.AsyncClient() as github:
        created = await github.post(action, data={"manifest": body})
    back = urlsplit(created.headers["location"])
    return await owner.get(f"{back.path}?{back.query}")


async def test_setup_switches_webhook_secret_and_app_without_restart(
    sessions, tmp_path, github_standin, github_standin_server, seeded_owner_cookie, standin_key
):
    settings = harness.settings_for(
        tmp_path, github_api_url=github_standin_server.url, webhook_secrets=(OLD_SECRET,)
    )
    body = payload_bytes("push/with-new-branch")
    async with running(settings, relay=False) as intake:
        state = harness.web_state(sessions, tmp_path, github_api_url=github_standin_server.url)
        state.use_app = intake.app.use_app
        before = await intake.post(body, signed_headers(body, "push", secret=OLD_SECRET))
        assert before.status_code == 202
        assert (await intake.services.apps.get_installation(1)).account_login == "dry-run"

        async with harness.client(state, await seeded_owner_cookie(state)) as owner:
            done = await register_app(state, owner)
        assert done.status_code == 200 and "Registered the GitHub App" in done.text
        secret = await stored_webhook_secret(state)
        assert secret != OLD_SECRET

        assert (await intake.post(body, signed_headers(body, "push", secret=secret))).status_code == 202
        refused = await intake.post(body, signed_headers(body, "push", secret=OLD_SECRET))
        assert refused.status_code == 401
        unsigned = await intake.post(body, {"x-github-event": "push", "x-github-delivery": "d-unsigned"})
        assert unsigned.status_code == 401

        # GitHub calls now go out as the new App, from the services and from the page alike
        assert (await intake.services.apps.get_installation(1)).account_login == "octo-org"
        assert state.github is intake.services.apps
        assert github_standin.calls_to("GET", r"^/app/installations/1$")[-1].status == 200

    # after a restart the stored App is used again, without it in the environment
    async with running(settings, relay=False) as restarted:
        state = harness.web_state(sessions, tmp_path, github_api_url=github_standin_server.url)
        state.use_app = restarted.app.use_app
        await load_registered_app(state)
        assert (await restarted.post(body, signed_headers(body, "push", secret=secret))).status_code == 202
        assert (
            await restarted.post(body, signed_headers(body, "push", secret=OLD_SECRET))
        ).status_code == 401
        assert (await restarted.services.apps.get_installation(1)).account_login == "octo-org"
