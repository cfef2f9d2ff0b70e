#!/usr/bin/env bash
# AutoStack's webhook-ingest benchmark: AutoStack, Probot and the verify-only Starlette floor,
# interleaved on the same harness in one run, then a check that every delivery AutoStack
# acknowledged was stored once and queued once, then the wrongly-signed flood.
#
# Usage: run.sh [--rounds N] [--duration S] [--warmup S]     (defaults 3, 10, 5)
# Needs: wrk, PostgreSQL and redis-server (Debian packages), Node.js for Probot,
# the project's .venv (make install). Everything listens on 127.0.0.1 only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export VENV="${VENV:-$ROOT/.venv}"
rounds=3 duration=10 warmup=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
case " ${TARGETS:-probot} " in *" probot "*)
  [ -x "$HERE/probot-ref/node_modules/.bin/probot" ] || (cd "$HERE/probot-ref" && npm ci --silent) ;;
esac
[ -x "$VENV/bin/autostack" ] || { echo "run 'make install' in $ROOT first" >&2; exit 1; }

out="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"
state="$(mktemp -d /tmp/autostack-bench-XXXXXX)"
chmod 755 "$state"
mkdir -p "$out" "$state/pg"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$state"; }
trap cleanup EXIT

# PostgreSQL and Redis share CPU 1 with wrk, as in the shared starlette-persist reference;
# AutoStack gets CPU 0 to itself. PostgreSQL keeps fsync=on and synchronous_commit=on.
aux=(taskset -c "${AUX_CPU:-1}")
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown -R postgres: "$state"; as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi
# BENCH_PG_PORT / BENCH_REDIS_PORT / BENCH_PORT_BASE move them, on a machine where those are taken
pg_port="${BENCH_PG_PORT:-5499}" redis_port="${BENCH_REDIS_PORT:-6399}"
"${as_pg[@]}" "$pgbin/initdb" -D "$state/pg" -U postgres --auth=trust -E UTF8 >/dev/null
"${aux[@]}" "${as_pg[@]}" "$pgbin/postgres" -D "$state/pg" -c listen_addresses=127.0.0.1 -c port=$pg_port \
  -c unix_socket_directories="$state" -c max_connections=100 -c shared_buffers=128MB >"$state/pg.log" 2>&1 &
pids+=($!)
"${aux[@]}" redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no --logfile "$state/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p $pg_port && break; sleep 0.1; done
export BENCH_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export BENCH_REDIS_URL="redis://127.0.0.1:$redis_port/0"
DATABASE_URL="$BENCH_DATABASE_URL" "$VENV/bin/autostack" migrate >/dev/null
# A fresh cluster creates and zero-fills each 16 MB WAL segment the first time it needs one,
# which stalls every commit for ~45 ms each 2-3 s at these rates; a PostgreSQL that has been
# running renames old segments for reuse instead. Create 40 segments (more than a run fills)
# and checkpoint, so they are recycled and the run measures the steady state.
"$pgbin/psql" -q -h 127.0.0.1 -p $pg_port -U postgres -d postgres \
  -c "DO \$\$ BEGIN FOR i IN 1..40 LOOP PERFORM pg_logical_emit_message(false, 'autostack-bench', 'wal warm-up'); PERFORM pg_switch_wal(); END LOOP; END \$\$" \
  -c "CHECKPOINT"

"$HERE/run-matrix.sh" --rounds "$rounds" --duration "$duration" --warmup "$warmup" \
  --targets "${TARGETS:-probot starlette autostack}" --max-others-total 100 --out "$out/good"
"$VENV/bin/python" "$HERE/lib/check_counts.py" "$BENCH_DATABASE_URL" "$BENCH_REDIS_URL" "$out/good/runs.txt" \
  | tee "$out/counts.txt"
"$HERE/run-matrix.sh" --rounds "$rounds" --duration "$duration" --warmup "$warmup" \
  --targets "${TARGETS:-probot starlette autostack}" --variant bad-signature --max-others-total 100 --out "$out/bad"
# the ratios compare AutoStack with Probot and the floor: only when all three ran
ran=" ${TARGETS:-probot starlette autostack} "
if [[ $ran == *" probot "* && $ran == *" starlette "* && $ran == *" autostack "* ]]; then
  "$VENV/bin/python" "$HERE/lib/ratios.py" "$out/good/runs.txt" "$out/bad/runs.txt" | tee "$out/ratios.txt"
else
  echo "ratios skipped: TARGETS=$TARGETS lacks probot, starlette or autostack"
fi
echo "results: $out"
