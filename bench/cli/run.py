"""How long `autostack` takes to start, against `python -c pass` on the same interpreter.

    .venv/bin/python bench/cli/run.py [--runs 20]

Times each command N times (wall clock, one after another) and prints the median and its ratio
to `python -c pass`. `autostack ls` is pointed at a loopback port nothing listens on, so it
measures start-up plus a refused connection (it must fail fast with exit 3).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, int]:
    samples, code = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    autostack = str(BIN / "autostack")
    env = {**os.environ, "AUTOSTACK_TOKEN": "bench", "AUTOSTACK_URL": f"http://127.0.0.1:{free_port()}"}
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("autostack --help", [autostack, "--help"]),
        ("autostack ls --help", [autostack, "ls", "--help"]),
        ("autostack deploy --help", [autostack, "deploy", "--help"]),
        ("autostack ls (server down)", [autostack, "ls"]),
    ]
    timed(cases[0][1], 3, env)  # warm the page cache and the .pyc files
    base = None
    print(f"{'command':<30} {'median':>9} {'x pass':>7} {'exit':>5}")
    for name, argv in cases:
        median, code = timed(argv, runs, env)
        base = base or median
        print(f"{name:<30} {median * 1000:>7.1f}ms {median / base:>7.2f} {code:>5}")


if __name__ == "__main__":
    main()
