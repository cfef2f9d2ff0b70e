"""AutoStack's own commands run as a user runs them: real processes on loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
AUTOSTACK = [sys.executable, "-m", "bot.cli"]


def autostack_env(**values: str) -> dict[str, str]:
    """The environment for an `autostack` process: this interpreter's, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOSTACK_", "DATABASE_", "REDIS_"))}
    env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="info", **values)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `autostack ARGS…` to completion."""
    return subprocess.run(
        [*AUTOSTACK, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@contextlib.contextmanager
def running(
    *args: str, env: dict[str, str], log: Path, ready_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `autostack ARGS…`, wait until `ready_url` answers 200, stop it with SIGTERM after."""
    with log.open("wb") as out:
        proc = subprocess.Popen([*AUTOSTACK, *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        if ready_url is not None:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"autostack {args[0]} exited {proc.returncode}:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{ready_url} never answered 200:\n{log.read_text()}")
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
