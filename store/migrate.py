"""Run Alembic migrations programmatically (`autostack migrate`, and `serve` on SQLite).

On PostgreSQL the upgrade holds a session-level advisory lock for its whole run, so processes
starting together (replicas, a Helm hook beside a rolling upgrade) migrate one after the other:
the second finds the schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy

from store.db import sync_url
from store.schema_check import MIGRATIONS, refuse_newer

if TYPE_CHECKING:
    from alembic.config import Config
# Any constant shared by every AutoStack version works; this one is "autostk" in ASCII, so it
# reads as ours in pg_locks.
MIGRATION_LOCK = 0x6175746F73746B


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    # Alembic is imported on use: beyond the start-up check (alembic.script, ~6 MB) a process
    # serving an external database never loads the rest of it
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).render_as_string(hide_password=False))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`, creating the SQLite folder if needed; refuses
    (SchemaMismatchError) a database migrated by a newer AutoStack."""
    from alembic import command

    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        refuse_newer(database_url)
        command.upgrade(alembic_config(database_url), revision)
        return
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as lock:
            # autocommit: the session lock must not sit inside a transaction left open for hours
            lock.execution_options(isolation_level="AUTOCOMMIT")
            lock.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                refuse_newer(database_url)
                command.upgrade(alembic_config(database_url), revision)
            finally:
                lock.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()
