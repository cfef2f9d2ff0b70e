"""The App manifest the setup page posts is one GitHub's manifest flow accepts; the stand-in
refuses what GitHub refuses, so a manifest GitHub would turn away fails here too."""

from __future__ import annotations

import copy
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.web.setup import MANIFEST_PATH, manifest
from tests.github_standin.manifests import manifest_errors
from tests.github_standin.openapi import github_openapi

BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "app-manifests" / "before-issue-17.yml"
BASE = "https://autostack.example.com"
DOCS = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"


def built(app_yml: Path) -> dict[str, Any]:
    """The manifest the setup page makes from an app.yml."""
    return manifest(yaml.safe_load(app_yml.read_text()), BASE, "/api/github/webhooks")


def valid() -> dict[str, Any]:
    return {
        "name": "AutoStack",
        "url": BASE,
        "hook_attributes": {"url": BASE + "/hook"},
        "redirect_url": BASE + "/setup/callback",
        "callback_urls": [BASE + "/login/callback"],
        "public": False,
        "default_permissions": {"checks": "write", "issues": "read", "contents": "read"},
        "default_events": ["check_run", "issue_comment", "push"],
    }


def changed(**fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(valid())
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (valid(), []),
        (
            changed(default_events=["push", "installation", "installation_repositories"]),
            [
                "Default events unsupported: installation and installation_repositories",
                "Default events are not supported by permissions: installation and installation_repositories",
            ],
        ),
        (
            changed(default_permissions={"checks": "write"}),
            ["Default events are not supported by permissions: issue_comment and push"],
        ),
        (
            changed(default_events=["pushes"]),
            [
                "Default events unsupported: pushes",
                "Default events are not supported by permissions: pushes",
            ],
        ),
        (
            changed(
                default_permissions={"checks": "write", "issues": "admin", "contents": "read", "repo": "all"}
            ),
            [
                "Default permissions unsupported: repo",
                "Default permission issues cannot be 'admin': use read or write",
            ],
        ),
        (
            changed(
                default_permissions={
                    "checks": "write",
                    "issues": "read",
                    "contents": "read",
                    "profile": "read",
                }
            ),
            ["Default permission profile cannot be 'read': use write"],
        ),
        (changed(url=None), ["Url can't be blank"]),
        (changed(url="autostack.example.com"), ["Url must be a valid URL: 'autostack.example.com'"]),
        (changed(name="A" * 35), ["Name is too long (maximum is 34 characters)"]),
        (changed(name="A" * 34), []),
        (changed(name=" "), ["Name can't be blank"]),
        (
            changed(hook_attributes={}),
            ["Hook attributes url must be a valid URL (an active webhook needs one)"],
        ),
        (
            changed(hook_attributes=None),
            ["Hook attributes url must be a valid URL (an active webhook needs one)"],
        ),
        (changed(hook_attributes={"active": False}), []),
        (
            changed(hook_attributes={"url": BASE, "active": "yes"}),
            ["Hook attributes active must be true or false"],
        ),
        (changed(hook_attributes=BASE), ["Hook attributes must be an object with a url"]),
        (changed(callback_urls=[BASE] * 11), ["Callback urls is too long (maximum is 10 URLs)"]),
        (changed(callback_urls=BASE), ["Callback urls must be a list of valid URLs"]),
        (changed(public="no"), ["public must be true or false"]),
        (changed(default_events="push"), ["Default events must be a list of event names"]),
        (
            changed(default_events=["milestone"], default_permissions={"pull_requests": "read"}),
            [],
        ),
        ([], ["The configuration does not appear to be a valid GitHub App manifest"]),
    ],
)
def test_githubs_manifest_rules(body, errors):
    assert manifest_errors(body, github_openapi()) == errors


def test_the_manifest_before_issue_17_breaks_githubs_rules():
    assert manifest_errors(built(BEFORE), github_openapi()) == [
        "Default events unsupported: installation and installation_repositories",
        "Default events are not supported by permissions: installation and installation_repositories",
    ]


def test_app_yml_makes_a_manifest_github_accepts():
    assert manifest_errors(built(MANIFEST_PATH), github_openapi()) == []


async def test_the_manifest_form_refuses_the_old_manifest_and_creates_the_app_from_the_new(
    github_standin, github_standin_server
):
    async with httpx.AsyncClient() as github:
        old = await github.post(
            f"{github_standin_server.url}/settings/apps/new?state=s1",
            data={"manifest": json.dumps(built(BEFORE))},
        )
        assert old.status_code == 422
        assert old.json() == {
            "message": "Validation Failed",
            "errors": [
                "Default events unsupported: installation and installation_repositories",
                "Default events are not supported by permissions: installation and installation_repositories",
            ],
            "documentation_url": DOCS,
        }
        assert github_standin.manifest_codes == {}
        assert len(github_standin.violations) == 1  # AutoStack posting it would fail the test
        github_standin.violations.clear()

        new = await github.post(
            f"{github_standin_server.url}/settings/apps/new?state=s2",
            data={"manifest": json.dumps(built(MANIFEST_PATH))},
        )
        assert new.status_code == 302
        code = new.headers["location"].split("code=")[1].split("&")[0]
        created = await github.post(f"{github_standin_server.url}/app-manifests/{code}/conversions")
    assert created.status_code == 201
    app = created.json()
    app_yml = yaml.safe_load(MANIFEST_PATH.read_text())
    assert app["events"] == app_yml["default_events"]
    assert app["permissions"] == app_yml["default_permissions"]


async def test_the_conversion_refuses_a_manifest_github_would_not_have_taken(
    github_standin, github_standin_server
):
    code = secrets.token_hex(10)
    github_standin.manifest_codes[code] = changed(default_permissions={"checks": "write", "contents": "read"})
    async with httpx.AsyncClient() as github:
        refused = await github.post(f"{github_standin_server.url}/app-manifests/{code}/conversions")
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["Default events are not supported by permissions: issue_comment"]
    assert refused.json()["message"] == "Validation Failed"
    github_standin.violations.clear()
