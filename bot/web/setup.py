"""First-run setup: register the GitHub App from `app.yml` through GitHub's manifest flow and
keep the credentials GitHub returns, encrypted, using the OAuth client at once."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.requests import Request
from starlette.responses import Response

from bot.web.context import Viewer, WebState, actor, page, refuse, render, web_state
from bot.web.identity import github_web_url
from store.activity import record_change
from store.db import transaction
from store.setup_state import store_credentials, stored_credentials

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "app.yml"
STORED = ("app_id", "private_key", "webhook_secret", "client_id", "client_secret")


def manifest(app_yml: dict[str, Any], base_url: str, webhook_path: str) -> dict[str, Any]:
    """The manifest GitHub expects: app.yml plus this server's URLs."""
    return {
        "name": app_yml["name"],
        "description": app_yml.get("description", ""),
        "public": bool(app_yml.get("public", False)),
        "url": base_url,
        "hook_attributes": {"url": base_url + webhook_path},
        "redirect_url": f"{base_url}/setup/callback",
        "callback_urls": [f"{base_url}/login/callback"],
        "default_permissions": app_yml["default_permissions"],
        "default_events": app_yml["default_events"],
    }


def _use_app(web: WebState, values: dict[str, str]) -> None:
    # webhooks and GitHub calls switch to the new App at once: setup must not need a restart
    if web.use_app is not None:
        web.github = web.use_app(int(values["app_id"]), values["private_key"], values["webhook_secret"])


async def load_registered_app(web: WebState) -> None:
    """Use the App and OAuth client a setup run stored, unless the environment configures them."""
    values = await stored_credentials(web.sessions, web.keyring, STORED)
    if not web.oauth.client_id and "client_id" in values and "client_secret" in values:
        web.oauth.client_id, web.oauth.client_secret = values["client_id"], values["client_secret"]
    if not web.settings.github_app_configured and {"app_id", "private_key", "webhook_secret"} <= set(values):
        _use_app(web, values)


async def setup_page(request: Request, viewer: Viewer) -> Response:
    """Whether a GitHub App is configured, and the form that registers one."""
    web = web_state(request)
    state = request.session["setup_state"] = secrets.token_urlsafe(16)
    org = request.query_params.get("org", "").strip()
    base = github_web_url(web.settings.github_api_url)
    action = f"{base}/organizations/{org}/settings/apps/new" if org else f"{base}/settings/apps/new"
    app_yml = yaml.safe_load(MANIFEST_PATH.read_text())
    return render(
        request,
        "setup.html",
        viewer,
        configured=web.settings.github_app_configured or bool(web.oauth.client_id),
        action=f"{action}?state={state}",
        manifest=json.dumps(manifest(app_yml, web.settings.base_url, web.settings.webhook_path)),
        org=org,
    )


async def setup_callback(request: Request, viewer: Viewer) -> Response:
    """GitHub created the App: exchange the code for its credentials and store them encrypted."""
    web = web_state(request)
    expected = request.session.pop("setup_state", None)
    if not expected or request.query_params.get("state") != expected:
        return refuse(request, viewer, 400, "the setup link is stale; start again from /setup")
    code = request.query_params.get("code", "")
    try:
        async with httpx.AsyncClient(timeout=15.0) as client:
            response = await client.post(
                f"{web.settings.github_api_url}/app-manifests/{code}/conversions",
                headers={"accept": "application/vnd.github+json"},
            )
    except httpx.HTTPError as exc:
        return refuse(request, viewer, 502, f"asking GitHub for the new App's credentials failed: {exc}")
    if response.status_code != 201:
        return refuse(
            request, viewer, 502, f"GitHub answered {response.status_code} for the App's credentials"
        )
    data = response.json()
    values = {
        "app_id": str(data["id"]),
        "private_key": data["pem"],
        "webhook_secret": data["webhook_secret"],
        "client_id": data["client_id"],
        "client_secret": data["client_secret"],
    }
    async with transaction(web.sessions) as tx:
        await store_credentials(tx, web.keyring, values)
        await record_change(tx, actor(request, viewer), "app.register", data.get("name"), app_id=data["id"])
    web.oauth.client_id, web.oauth.client_secret = values["client_id"], values["client_secret"]
    _use_app(web, values)
    return render(
        request, "setup.html", viewer, configured=True, registered=data.get("name"), app_id=data["id"]
    )


routes = [
    page("/setup", setup_page, "setup.write"),
    page("/setup/callback", setup_callback, "setup.write"),
]
