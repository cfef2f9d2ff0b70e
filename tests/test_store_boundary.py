"""Every query and transaction lives in `store/`: above it, code holds `Sessions` and `Tx` handles
from `store.db` and passes them to store functions, and never works a session itself.

import-linter (make lint) keeps `sqlalchemy` imports in `store/`; this test catches what an import
check cannot: a session handed in from outside and worked directly (`tx.execute(...)`,
`ctx.sessions.begin()`, `session.add(...)`).
"""

from __future__ import annotations

import ast
import re
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
    offenders = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            found = session_work(path.read_text())
            if found:
                offenders[_module_of(path)] = found
    assert offenders == {}, "session work outside store/ (move it into a store module): " + repr(offenders)
