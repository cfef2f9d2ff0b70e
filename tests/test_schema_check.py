"""A process refuses to start on a schema older or newer than its code, in one line that says
which revision it found, which it expects and what to do."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from store.migrate import upgrade
from tests.conftest import SECRET
from tests.processes import autostack_env, run_cli
from tests.servers import free_ports

HEAD = ScriptDirectory(str(Path(__file__).parents[1] / "store" / "migrations")).get_current_head()
FUTURE = "0099_from_a_newer_autostack"


def _env(tmp_path: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    port, router = free_ports(2)
    values = {
        "PORT": str(port),
        "ROUTER_PORT": str(router),
        "AUTOSTACK_DATA_DIR": str(tmp_path / "data"),
        "WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "schema-check-key",
        "DATABASE_URL": database_url,
    }
    if redis_url is not None:
        values["REDIS_URL"] = redis_url
    return autostack_env(**values)


def _stamp(database_url: str, revision: str) -> None:
    if database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))


def _refused(command: str, env: dict[str, str]) -> str:
    result = run_cli(command, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["serve", "worker", "relay"])
def test_a_process_refuses_an_older_schema(command, tmp_path, fresh_postgres_url, redis_url_real):
    upgrade(fresh_postgres_url, "0003")
    env = _env(tmp_path, fresh_postgres_url, redis_url_real)
    assert _refused(command, env) == (
        f"autostack: database schema is at 0003 but this AutoStack expects {HEAD}; run autostack migrate"
    )


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_a_process_refuses_a_newer_schema(command, tmp_path, fresh_postgres_url, redis_url_real):
    upgrade(fresh_postgres_url)
    _stamp(fresh_postgres_url, FUTURE)
    env = _env(tmp_path, fresh_postgres_url, redis_url_real)
    assert _refused(command, env) == (
        f"autostack: database schema is at {FUTURE}, newer than this AutoStack (expects {HEAD}); upgrade AutoStack"
    )


def test_a_never_migrated_database_is_named_empty(tmp_path, fresh_postgres_url, redis_url_real):
    env = _env(tmp_path, fresh_postgres_url, redis_url_real)
    assert _refused("worker", env) == (
        f"autostack: database schema is empty but this AutoStack expects {HEAD}; run autostack migrate"
    )


def test_embedded_serve_refuses_a_newer_schema_instead_of_migrating(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'data' / 'autostack.db'}"
    upgrade(database_url)
    _stamp(database_url, FUTURE)
    env = _env(tmp_path, database_url, None)
    assert _refused("serve", env) == (
        f"autostack: database schema is at {FUTURE}, newer than this AutoStack (expects {HEAD}); upgrade AutoStack"
    )
