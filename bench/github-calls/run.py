"""Count every GitHub API call of one successful pull-request preview, end to end.

AutoStack runs as `serve` wires it (webhook intake, delivery worker, deploy worker, local
target, reporter) against the GitHub stand-in on a loopback port: a signed `pull_request
opened` delivery goes in; the preview is built, started and reported. Every request the
stand-in received is counted: token exchanges, file and permission lookups, the tarball,
check run, statuses, Deployment, comment. Run: .venv/bin/python bench/github-calls/run.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.worker.queue import EmbeddedRedis
from store.migrate import upgrade
from tests.conftest import Backend
from tests.github_standin.fixtures import APP_ID, AppKeys
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State
from tests.handlers.doubles import pull_request
from tests.handlers.e2e_harness import e2e_running

TARGET = 10
CODELOAD = "/_codeload/"
SHA = "a1" * 20


def keys() -> AppKeys:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeys(private, public)


async def preview(server: StandInServer, app_keys: AppKeys, folder: Path) -> float:
    """One pull request opened, through to a live preview; returns the seconds it took."""
    redis = EmbeddedRedis(folder)
    database_url = f"sqlite:///{folder / 'autostack.db'}"
    await asyncio.to_thread(upgrade, database_url)
    backend = Backend("embedded", database_url, await redis.start())
    try:
        async with e2e_running(backend, folder / "data", folder / "cache", server, app_keys) as e2e:
            e2e.commit(SHA)
            started = time.monotonic()
            await e2e.deliver(
                "pull_request", pull_request("opened", sha=SHA, updated_at="2024-01-01T10:00:00Z")
            )
            elapsed = time.monotonic() - started
            [deployment] = await e2e.deployments("pr-2")
            if deployment.state != "ready":
                raise SystemExit(f"the preview did not go live: {deployment.state} ({deployment.reason})")
            return elapsed
    finally:
        redis.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    app_keys = keys()
    state = State(APP_ID, app_keys.public_pem)
    with StandInServer(state) as server, tempfile.TemporaryDirectory() as folder:
        elapsed = asyncio.run(preview(server, app_keys, Path(folder)))
    print(f"successful pull-request preview, end to end, {elapsed:.1f} s")
    print("calls in order:")
    for number, call in enumerate(state.calls, 1):
        print(f"{number:4d}  {call.endpoint}  → {call.status}")
    # the tarball endpoint redirects to codeload.github.com, a download host outside the API
    downloads = [call for call in state.calls if call.path.startswith(CODELOAD)]
    api = [call for call in state.calls if not call.path.startswith(CODELOAD)]
    counts: dict[str, int] = {}
    for call in api:
        counts[call.endpoint] = counts.get(call.endpoint, 0) + 1
    print("API calls by endpoint:")
    for endpoint, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{count:4d}  {endpoint}")
    total = sum(counts.values())
    print(f"{total:4d}  API calls in total (target ≤ {TARGET})")
    print(f"{len(downloads):4d}  archive download from the codeload host (not an API call)")
    if state.violations:
        print("requests GitHub would refuse:", *state.violations, sep="\n  ")
        return 1
    return 0 if total <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
