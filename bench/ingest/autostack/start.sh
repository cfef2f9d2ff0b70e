#!/usr/bin/env bash
# Start `autostack serve` on 127.0.0.1:PORT against the PostgreSQL and Redis that run.sh
# started (BENCH_DATABASE_URL, BENCH_REDIS_URL), exactly as production runs the web process:
# webhook intake with group commit, outbox relay, deploy worker idle.
# Usage: start.sh PORT     (env: WEBHOOK_SECRET, BENCH_DATABASE_URL, BENCH_REDIS_URL)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${1:?port}"
VENV="${VENV:-$HERE/../../../.venv}"
: "${WEBHOOK_SECRET:?WEBHOOK_SECRET must be set}"
: "${BENCH_DATABASE_URL:?run this through bench/ingest/run.sh}"
: "${BENCH_REDIS_URL:?run this through bench/ingest/run.sh}"
data="$(mktemp -d /tmp/autostack-bench-data-XXXXXX)"
export DATABASE_URL="$BENCH_DATABASE_URL" REDIS_URL="$BENCH_REDIS_URL"
export HOST=127.0.0.1 PORT LOG_LEVEL=warning SECRET_KEY=bench-secret-key
export AUTOSTACK_DATA_DIR="$data" ROUTER_PORT=$((PORT + ${BENCH_ROUTER_OFFSET:-3000}))
exec "$VENV/bin/autostack" serve
