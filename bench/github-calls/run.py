"""Count the GitHub API calls one successful preview deployment costs.

Drives a pull request's preview deployment with a long build log through the real reporter
and GitHub client against the stand-in, then prints the calls by endpoint and in total.
Run: .venv/bin/python bench/github-calls/run.py [--lines 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine as create_sync_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.github.app import GitHubApp
from bot.reporter.reporter import Reporter
from deployer.events import Finished, LogLine, PhaseStarted, Queued
from store.db import create_engine, sessionmaker
from store.models import Base
from tests.github.seed import add_deployment, finish_row, seed_environment
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State

APP_ID = 1
TARGET = 12


def keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def deploy(url: str, private: str, lines: int, folder: Path) -> float:
    database = f"sqlite:///{folder / 'bench.db'}"
    sync = create_sync_engine(database)
    Base.metadata.create_all(sync)
    sync.dispose()
    engine = create_engine(database)
    sessions = sessionmaker(engine)
    env = await seed_environment(sessions)
    dep = await add_deployment(sessions, env, "a" * 40)
    reporter = Reporter(
        dep,
        sessions=sessions,
        github=GitHubApp(APP_ID, private, base_url=url),
        base_url="https://autostack.example.com",
    )
    now = datetime.now(UTC)
    started = time.monotonic()
    await reporter.emit(Queued(dep))
    for phase in ("source", "detect", "install", "build"):
        await reporter.emit(PhaseStarted(dep, phase, now))
    for seq in range(lines):
        await reporter.emit(LogLine(dep, seq, now, f"[build] step {seq}: compiled module {seq}"))
    for phase in ("start", "health", "switch"):
        await reporter.emit(PhaseStarted(dep, phase, now))
    await finish_row(
        sessions, dep, state="ready", url="http://pr-12--shop.localhost:8080", build_seconds=42.0
    )
    await reporter.emit(Finished(dep, "success", "ready", url="http://pr-12--shop.localhost:8080"))
    elapsed = time.monotonic() - started
    await engine.dispose()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    private, public = keys()
    state = State(APP_ID, public)
    with StandInServer(state) as server, tempfile.TemporaryDirectory() as folder:
        elapsed = asyncio.run(deploy(server.url, private, args.lines, Path(folder)))
    counts = state.endpoint_counts()
    print(f"successful preview deployment, {args.lines:,}-line build log, {elapsed:.1f} s")
    for endpoint, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{count:4d}  {endpoint}")
    total = sum(counts.values())
    print(f"{total:4d}  total (target ≤ {TARGET})")
    if state.violations:
        print("requests GitHub would refuse:", *state.violations, sep="\n  ")
        return 1
    return 0 if total <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
