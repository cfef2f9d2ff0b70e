#!/usr/bin/env bash
# The chaos bench: Redis stopped 10 s, PostgreSQL restarted, kill -9 of the worker, kill -9 of
# serve mid-deploy, each under a burst of signed deliveries (2,000 unless --burst N); prints per
# fault: acknowledged, stored, processed, lost, handled twice, seconds from recovery to all
# processed. Exit 1 when a fault lost or doubled a delivery or took 60 s or more.
#
# Usage: run.sh [--burst N] [--faults redis,postgres,worker,serve]
# Needs: PostgreSQL and redis-server (Debian packages), the project's dev .venv (make install-dev).
# Ports are free loopback ports, or from TEST_PORT_RANGE=LOW-HIGH when set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { echo "run 'make install-dev' in $ROOT first" >&2; exit 1; }
cd "$ROOT"
PYTHONPATH="$ROOT" exec "$VENV/bin/python" "$ROOT/bench/chaos/run.py" "$@"
