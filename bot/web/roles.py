"""Who may do what: the four team roles and the route x role table every page is checked against.

Deploy actions mirror the pull-request commands: a developer (GitHub write) may deploy and roll
back previews, production needs an admin (GitHub maintain), as `handlers/permissions.py` says.
A new project (a CLI upload under a name no project has) needs an admin too.
"""

from __future__ import annotations

from typing import Literal

from store.environment_names import PRODUCTION

Role = Literal["viewer", "developer", "admin", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "developer", "admin", "owner")
RANK = {role: rank for rank, role in enumerate(ROLES)}

# permission name → the least role that holds it
REQUIRED: dict[str, Role] = {
    "projects.view": "viewer",
    "projects.create": "admin",
    "projects.delete": "admin",
    "deployments.view": "viewer",
    "deployments.redeploy": "developer",
    "deployments.rollback": "developer",
    "deployments.cancel": "developer",
    "deployments.promote": "admin",
    "environments.destroy": "admin",
    "env.view": "viewer",
    "env.write": "developer",
    "domains.view": "viewer",
    "domains.write": "admin",
    "team.view": "viewer",
    "team.write": "admin",
    "activity.view": "admin",
    "tokens.write": "admin",
    "analytics.view": "viewer",
    "setup.write": "owner",
}


def allows(role: str | None, permission: str) -> bool:
    """Whether `role` holds `permission` (unknown roles and permissions hold nothing)."""
    needed = REQUIRED.get(permission)
    if role not in RANK or needed is None:
        return False
    return RANK[role] >= RANK[needed]


def may_assign(actor: str, role: str) -> bool:
    """Whether `actor` may give (or take away) `role`: only owners make or unmake owners."""
    if role not in RANK or not allows(actor, "team.write"):
        return False
    return role != "owner" or actor == "owner"


def deploy_permission(environment: str, action: str) -> str:
    """Production needs the promote level (admin) whatever the action; previews the action's own."""
    return "deployments.promote" if environment == PRODUCTION else f"deployments.{action}"


def role_from_github(org_role: str | None, repo_permission: str | None) -> Role | None:
    """The role a first login gets: org admin → admin, org member → developer, else from the
    best repository permission (admin/maintain → admin, write → developer, triage/read → viewer).
    maintain gives admin because the PR commands let a maintainer promote production."""
    if org_role == "admin":
        return "admin"
    if org_role == "member":
        return "developer"
    by_permission: dict[str, Role] = {
        "admin": "admin",
        "maintain": "admin",
        "write": "developer",
        "triage": "viewer",
        "read": "viewer",
    }
    return by_permission.get(repo_permission or "")
