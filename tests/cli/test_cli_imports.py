"""The client verbs and every `--help` start without the server's libraries: what
`python -X importtime` says the process imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "arq", "starlette", "githubkit", "kubernetes", "boto3", "httpx", "uvicorn")
OURS = ("deployer", "handlers", "store", "bot.web", "bot.serve", "bot.settings")
# the contract the CLI shares with the server (how environments are named): pure, standard library only
SHARED = frozenset({"store", "store.environment_names"})


def imported(*argv: str) -> set[str]:
    """Every module `python -m bot.cli ARGV` imported, as -X importtime lists them."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "AUTOSTACK_TOKEN": "t"},
        timeout=60,
    )
    assert "Traceback" not in done.stderr
    return {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("ls", "--help"),
        ("deploy", "--help"),
        ("serve", "--help"),
        ("ls", "--server", "http://127.0.0.1:9"),
        ("logs", "3", "--server", "http://127.0.0.1:9"),
        ("destroy", "pr-1", "--project", "x", "--yes", "--server", "http://127.0.0.1:9"),
        ("deploy", "/nonexistent-folder", "--server", "http://127.0.0.1:9"),
    ],
)
def test_client_verbs_and_help_import_none_of_the_server(argv):
    modules = imported(*argv)
    assert "bot.cli" in modules  # the listing is real: it names what ran
    loaded = sorted(
        m for m in modules if (m.split(".")[0] in HEAVY or m.startswith(OURS)) and m not in SHARED
    )
    assert loaded == []


def test_serve_does_import_the_server_when_it_runs():
    # the check above can fail: a verb that needs the server loads it
    modules = imported("migrate")
    assert "sqlalchemy" in modules and "store.migrate" in modules
