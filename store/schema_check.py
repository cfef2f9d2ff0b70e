"""Whether the database schema is the one this AutoStack's code was written for.

A process started against an older schema (an upgrade whose migration has not run yet) or a
newer one (a rollback of the code) would fail later in odd places; it stops at start-up instead
with one line naming both revisions and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy

from store.db import sync_url

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaMismatchError(RuntimeError):
    """The database schema is not at the revision this code expects."""


def expected_revision() -> str:
    """The newest migration this code ships (the Alembic head)."""
    head = _scripts().get_current_head()
    if head is None:
        raise SchemaMismatchError(f"no migrations found in {MIGRATIONS}")
    return head


def database_revision(database_url: str) -> str | None:
    """The revision the database is stamped with, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = sqlalchemy.create_engine(sync_url(database_url), poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return ",".join(heads) if heads else None


def refuse_newer(database_url: str) -> None:
    """Raise SchemaMismatchError if the database was migrated by a newer AutoStack."""
    found = database_revision(database_url)
    if found is not None and not _known(found):
        raise SchemaMismatchError(
            f"database schema is at {found}, newer than this AutoStack "
            f"(expects {expected_revision()}); upgrade AutoStack"
        )


def require_current_schema(database_url: str) -> None:
    """Raise SchemaMismatchError unless the database is at exactly this code's revision."""
    expected = expected_revision()
    found = database_revision(database_url)
    if found == expected:
        return
    refuse_newer(database_url)
    at = "empty" if found is None else f"at {found}"
    raise SchemaMismatchError(
        f"database schema is {at} but this AutoStack expects {expected}; run autostack migrate"
    )


def _scripts() -> ScriptDirectory:
    # imported on use, like store.migrate: only start-up needs Alembic
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def _known(revisions: str) -> bool:
    scripts = _scripts()
    known = {script.revision for script in scripts.walk_revisions()}
    return all(revision in known for revision in revisions.split(","))
