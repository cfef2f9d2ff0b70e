"""Every query and transaction lives in `store/`: above it, code holds `Sessions` and `Tx` handles
from `store.db` and passes them to store functions, and never works a session itself.

import-linter (make lint) keeps `sqlalchemy` imports in `store/`; this test catches what an import
check cannot: a session handed in from outside and worked directly (`tx.execute(...)`,
`ctx.sessions.begin()`, `session.add(...)`). The modules still to move are the ones pyproject's
"SQL only in store" contract lists; none may be added.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "handlers", "deployer")
# what only a session does (an arq pool's `enqueue_job` or a Redis pipeline's `execute` is not
# reached: the receiver must be named for a session)
SESSION_WORK = frozenset(
    {
        "add",
        "add_all",
        "begin",
        "begin_nested",
        "commit",
        "connection",
        "delete",
        "execute",
        "expunge",
        "flush",
        "get",
        "merge",
        "refresh",
        "rollback",
        "run_sync",
        "scalar",
        "scalars",
        "stream",
        "stream_scalars",
    }
)
SESSION_NAME = re.compile(r"(^|_)(session|sessions|tx|db_session)$")
# a bare call of one of these opens a session (`github_session()` or `_start_session()` do not)
SESSION_FACTORY = re.compile(r"(^|_)sessions$")
# modules that work a session without importing SQLAlchemy, so the contract cannot list them;
# they are still to move as well, and none may be added
ALSO_TO_MOVE = frozenset(
    {
        "bot.web.deployments",
        "bot.web.runtime_logs",
        "handlers.commands.activity",
        "handlers.commands.locks",
        "handlers.push",
    }
)


def _still_to_move() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["name"].startswith("SQL only in store"):
            return {line.split(" -> ")[0] for line in contract.get("ignore_imports", [])}
    raise AssertionError("pyproject.toml has no 'SQL only in store' contract")


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    # `request.session` is Starlette's signed-cookie dict, not a database session
    if isinstance(node, ast.Attribute) and not (
        isinstance(node.value, ast.Name) and node.value.id == "request"
    ):
        return node.attr
    return None


def session_work(source: str) -> list[str]:
    """`line: call` for each place the source works a session-named object directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and SESSION_FACTORY.search(func.id):
            found.append(f"{node.lineno}: {func.id}()")
        elif isinstance(func, ast.Attribute) and func.attr in SESSION_WORK:
            receiver = _receiver_name(func.value)
            if receiver is not None and SESSION_NAME.search(receiver):
                found.append(f"{node.lineno}: {receiver}.{func.attr}()")
        elif isinstance(func, ast.Attribute) and SESSION_FACTORY.search(func.attr):
            found.append(f"{node.lineno}: .{func.attr}()")
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def f(tx):\n    await tx.execute(q)\n", ["2: tx.execute()"]),
        (
            "async def f(ctx):\n    async with ctx.sessions.begin() as s:\n        pass\n",
            ["2: sessions.begin()"],
        ),
        ("async def f(self):\n    async with self.sessions() as s:\n        pass\n", ["2: .sessions()"]),
        ("def f(session):\n    session.add(row)\n", ["2: session.add()"]),
        ("async def f(sessions):\n    async with sessions() as s:\n        pass\n", ["2: sessions()"]),
        ("async def f(pipe):\n    await pipe.execute()\n", []),
        (
            "async def f(sessions):\n    async with transaction(sessions) as tx:\n        await queue(tx, 1)\n",
            [],
        ),
        ("def f(cache):\n    return cache.get(key)\n", []),
        ("def f(request):\n    return request.session.get('user')\n", []),
        ("async def f():\n    async with github_session() as gh:\n        pass\n", []),
    ],
)
def test_session_work_is_recognised(source: str, expected: list[str]) -> None:
    assert session_work(source) == expected


def test_no_session_work_outside_store() -> None:
    exempt = _still_to_move() | ALSO_TO_MOVE
    offenders = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            module = _module_of(path)
            if module in exempt:
                continue
            found = session_work(path.read_text())
            if found:
                offenders[module] = found
    assert offenders == {}, "session work outside store/ (move it into a store module): " + repr(offenders)


def test_modules_still_to_move_still_work_sessions() -> None:
    """A module that no longer works a session leaves the list, so it cannot slip back."""
    moved = []
    for module in ALSO_TO_MOVE:
        path = ROOT / Path(*module.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
        if not source.exists() or not session_work(source.read_text()):
            moved.append(module)
    assert moved == [], "remove these from ALSO_TO_MOVE: " + repr(sorted(moved))
