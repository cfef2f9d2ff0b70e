"""Migration 0011: projects become unique per (repository, app); existing ones are the "" app."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from store.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return request.getfixturevalue("fresh_postgres_url")


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_existing_projects_keep_working_and_a_repository_may_hold_several_apps(database_url: str):
    config = alembic_config(database_url)
    command.upgrade(config, "0012")
    engine = _engine(database_url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO projects (name, github_repo_id, default_branch, private, created_at, updated_at)"
                " VALUES ('hello-world', 42, 'main', true, :now, :now)"
            ),
            {"now": now},
        )
    upgrade(database_url)
    insert = sa.text(
        "INSERT INTO projects (name, github_repo_id, app, default_branch, private, created_at, updated_at)"
        " VALUES (:name, 42, :app, 'main', true, :now, :now)"
    )
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT name, app FROM projects")).all() == [("hello-world", "")]
        conn.execute(insert, {"name": "hello-world-web", "app": "web", "now": now})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"name": "hello-world-web-2", "app": "web", "now": now})

    # going back would put two projects on one repository: refused, naming why
    with pytest.raises(RuntimeError, match="1 projects are apps of a monorepo"):
        command.downgrade(config, "0012")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM projects WHERE app = 'web'"))
    command.downgrade(config, "0012")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO projects (name, github_repo_id, default_branch, private, created_at, updated_at)"
                " VALUES ('again', 42, 'main', true, :now, :now)"
            ),
            {"now": now},
        )
    upgrade(database_url)
    command.check(config)
    engine.dispose()
