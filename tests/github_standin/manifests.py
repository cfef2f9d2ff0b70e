"""GitHub's rules for an App manifest, as its manifest flow enforces them.

Sources: "Registering a GitHub App from a manifest" (the parameters), "Webhook events and
payloads" (the permission each event needs), the OpenAPI `app-permissions` schema (permission
names and levels). The messages are GitHub's own, e.g. "Default events unsupported:
installation and installation_repositories".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.github_standin.openapi import OpenAPI

DOCS = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
NAME_LIMIT = 34  # GitHub App names: "Name is too long (maximum is 34 characters)"
CALLBACK_URL_LIMIT = 10

# Delivered to every App; GitHub refuses them in `default_events`
AUTOMATIC = frozenset(
    {"installation", "installation_repositories", "installation_target", "github_app_authorization"}
)

# The permissions (any one, at least read) an App needs to subscribe to each event; an event
# not listed here is refused as unsupported
EVENT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "branch_protection_rule": ("administration",),
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "code_scanning_alert": ("security_events",),
    "commit_comment": ("contents",),
    "create": ("contents",),
    "delete": ("contents",),
    "dependabot_alert": ("vulnerability_alerts",),
    "deploy_key": ("deployments",),
    "deployment": ("deployments",),
    "deployment_protection_rule": ("deployments",),
    "deployment_status": ("deployments",),
    "discussion": ("discussions",),
    "discussion_comment": ("discussions",),
    "fork": ("contents",),
    "gollum": ("contents",),
    "issue_comment": ("issues",),
    "issues": ("issues",),
    "label": ("metadata",),
    "member": ("members",),
    "membership": ("members",),
    "merge_group": ("merge_queues",),
    "milestone": ("issues", "pull_requests"),
    "org_block": ("organization_administration",),
    "organization": ("members",),
    "package": ("packages",),
    "page_build": ("pages",),
    "project": ("repository_projects", "organization_projects"),
    "project_card": ("repository_projects", "organization_projects"),
    "project_column": ("repository_projects", "organization_projects"),
    "projects_v2": ("organization_projects",),
    "projects_v2_item": ("organization_projects",),
    "public": ("metadata",),
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "push": ("contents",),
    "registry_package": ("packages",),
    "release": ("contents",),
    "repository": ("metadata",),
    "repository_dispatch": ("contents",),
    "repository_ruleset": ("administration",),
    "secret_scanning_alert": ("secret_scanning_alerts",),
    "secret_scanning_alert_location": ("secret_scanning_alerts",),
    "security_and_analysis": ("administration",),
    "star": ("metadata",),
    "status": ("statuses",),
    "team": ("members",),
    "team_add": ("members",),
    "watch": ("metadata",),
    "workflow_dispatch": ("contents",),
    "workflow_job": ("actions",),
    "workflow_run": ("actions",),
}

BOOLEANS = ("public", "request_oauth_on_install", "setup_on_update")
URLS = ("url", "redirect_url", "setup_url")


def sentence(words: list[str]) -> str:
    """GitHub's list in a message: "a", "a and b", "a, b, and c"."""
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]


def permission_levels(spec: OpenAPI) -> dict[str, list[str]]:
    """Every permission an App can ask for and the levels GitHub accepts for it."""
    properties = spec.spec["components"]["schemas"]["app-permissions"]["properties"]
    return {name: list(node.get("enum", [])) for name, node in properties.items()}


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _shape_errors(manifest: dict[str, Any]) -> list[str]:
    errors = []
    name = manifest.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        errors.append("Name can't be blank")
    elif isinstance(name, str) and len(name) > NAME_LIMIT:
        errors.append(f"Name is too long (maximum is {NAME_LIMIT} characters)")
    if "url" not in manifest:
        errors.append("Url can't be blank")
    for key in URLS:
        if key in manifest and not _is_url(manifest[key]):
            errors.append(f"{key.capitalize().replace('_', ' ')} must be a valid URL: {manifest[key]!r}")
    if "description" in manifest and not isinstance(manifest["description"], str):
        errors.append("Description must be a string")
    for key in BOOLEANS:
        if key in manifest and not isinstance(manifest[key], bool):
            errors.append(f"{key} must be true or false")
    callbacks = manifest.get("callback_urls", [])
    if not isinstance(callbacks, list) or not all(_is_url(url) for url in callbacks):
        errors.append("Callback urls must be a list of valid URLs")
    elif len(callbacks) > CALLBACK_URL_LIMIT:
        errors.append(f"Callback urls is too long (maximum is {CALLBACK_URL_LIMIT} URLs)")
    hook = manifest.get("hook_attributes", {})
    if not isinstance(hook, dict):
        errors.append("Hook attributes must be an object with a url")
    elif hook.get("active", True) is not False:
        if "active" in hook and not isinstance(hook["active"], bool):
            errors.append("Hook attributes active must be true or false")
        if not _is_url(hook.get("url")):
            errors.append("Hook attributes url must be a valid URL (an active webhook needs one)")
    return errors


def _permission_errors(permissions: Any, levels: dict[str, list[str]]) -> list[str]:
    if not isinstance(permissions, dict):
        return ["Default permissions must be an object of permission: access level"]
    unknown = sorted(name for name in permissions if name not in levels)
    errors = [f"Default permissions unsupported: {sentence(unknown)}"] if unknown else []
    for name, level in permissions.items():
        if name in levels and level not in levels[name]:
            allowed = sentence(levels[name]).replace(" and ", " or ")
            errors.append(f"Default permission {name} cannot be {level!r}: use {allowed}")
    return errors


def _event_errors(events: Any, permissions: dict[str, Any]) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(event, str) for event in events):
        return ["Default events must be a list of event names"]
    unsupported = [e for e in events if e in AUTOMATIC or e not in EVENT_PERMISSIONS]
    uncovered = [e for e in events if not any(p in permissions for p in EVENT_PERMISSIONS.get(e, ()))]
    errors = []
    if unsupported:
        errors.append(f"Default events unsupported: {sentence(unsupported)}")
    if uncovered:
        errors.append(f"Default events are not supported by permissions: {sentence(uncovered)}")
    return errors


def manifest_errors(manifest: Any, spec: OpenAPI) -> list[str]:
    """Why GitHub's manifest flow would refuse `manifest`; empty when it would create the App."""
    if not isinstance(manifest, dict):
        return ["The configuration does not appear to be a valid GitHub App manifest"]
    permissions = manifest.get("default_permissions", {})
    errors = _shape_errors(manifest) + _permission_errors(permissions, permission_levels(spec))
    granted = permissions if isinstance(permissions, dict) else {}
    return errors + _event_errors(manifest.get("default_events", []), granted)


def refusal_body(errors: list[str]) -> dict[str, Any]:
    """GitHub's 422 answer (`validation-error-simple`) for a refused manifest."""
    return {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}
