"""Run Alembic migrations programmatically (`autostack migrate`, and `serve` on SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from store.db import sync_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    # Alembic is imported on use: serving with an external database never needs it (~10 MB)
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).render_as_string(hide_password=False))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database schema up to `revision` (every head: branches made side by side
    migrate before they are chained), creating the SQLite folder if needed."""
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)
