"""App installations as GitHub reports them: the account, suspension, removal."""

from __future__ import annotations

from sqlalchemy import select

from store.db import Tx
from store.models import Installation, Project, utcnow
from store.repositories import archive_repositories
from store.upserts import get_or_create_installation, get_or_create_team


async def refreshed_installation(
    tx: Tx,
    installation_id: int,
    *,
    login: str | None,
    account_id: int | None = None,
    account_type: str | None = None,
) -> Installation:
    """The installation's row (and its team), made on first sight and brought up to date with
    the account GitHub names; a detail GitHub leaves out (None) keeps its stored value."""
    row = await get_or_create_installation(tx, installation_id, login or "")
    row.account_login = login if login is not None else row.account_login
    row.account_id = account_id if account_id is not None else row.account_id
    row.account_type = account_type if account_type is not None else row.account_type
    await get_or_create_team(tx, row.id, row.account_login)
    return row


def reinstate(installation: Installation, *, unsuspend: bool) -> None:
    """The App is installed (again): not deleted, and with `unsuspend` no longer suspended."""
    installation.deleted_at = None
    if unsuspend:
        installation.suspended_at = None


def suspend(installation: Installation) -> None:
    """Remember the suspension: nothing deploys for a suspended installation."""
    installation.suspended_at = utcnow()


async def uninstall(tx: Tx, installation: Installation) -> list[Project]:
    """Mark the installation deleted and archive each of its projects (their history stays);
    returns those projects."""
    installation.deleted_at = utcnow()
    repo_ids = await tx.scalars(
        select(Project.github_repo_id).where(Project.installation_id == installation.id)
    )
    return await archive_repositories(tx, [r for r in repo_ids.all() if r is not None])
