"""Projects follow repositories: created when the App is installed, archived when removed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import count
from typing import Any

from store.db import Tx
from store.models import Project
from store.repositories import follow_repository

_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def project_slug(repo_name: str) -> str:
    """A DNS label from a repository name: `My_Shop.web` → `my-shop-web`."""
    slug = _NOT_DNS.sub("-", repo_name.lower()).strip("-")
    return (slug or "app")[:63].rstrip("-")


def _names(wanted: str, owner: str) -> Iterator[str]:
    """Names to try for a new project, in order: the repository's, then with its owner, then numbered."""
    with_owner = project_slug(f"{wanted}-{owner}")
    yield wanted
    yield with_owner
    for suffix in count(2):
        yield f"{with_owner[:58]}-{suffix}"


async def upsert_project(tx: Tx, repo: dict[str, Any], installation_id: int | None, app: str = "") -> Project:
    """The project of a repository (or of one of its apps, named `<repo>-<app>`), created on
    first sight and restored if it was archived."""
    full_name = repo.get("full_name") or repo["name"]
    owner = full_name.split("/", 1)[0]
    wanted = project_slug(f"{repo['name']}-{app}" if app else repo["name"])
    return await follow_repository(
        tx,
        repo["id"],
        app,
        _names(wanted, owner),
        full_name=full_name,
        installation_id=installation_id,
        private=bool(repo.get("private", True)),
        default_branch=repo.get("default_branch"),
    )
