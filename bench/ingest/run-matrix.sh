#!/usr/bin/env bash
# Run ingest.sh on several targets, ROUNDS times each, interleaved (round 1: A B, round 2: A B, ...),
# save every result line and print median (min..max) per target.
#
# Usage: run-matrix.sh [--rounds N] [--variant good|bad-signature] [--duration S] [--warmup S]
#                      [--connections N] [--targets "probot starlette ..."] [--out DIR]
#                      [--max-others PCT] [--max-others-total PCT] [--retries N]
# A run during which other processes took more than --max-others % of the target's own CPU
# (default 10), or more than --max-others-total % of a core on the whole machine (default 60),
# is kept as a comment line and repeated, up to --retries times (default 3).
# Targets (see target_cmd below): probot, probot-info, starlette, starlette-h11, starlette-accesslog, autostack
# Results go to DIR (default: results/<UTC timestamp>/ beside this script): runs.txt, summary.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rounds=3 variant=good duration=10 warmup=5 conns=32 targets="probot starlette" out=""
max_others=10 max_total=60 retries=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --variant) variant="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --max-others) max_others="$2"; shift 2 ;;
    --max-others-total) max_total="$2"; shift 2 ;;
    --retries) retries="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-matrix.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
out="${out:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"

# target_cmd NAME PORT -> prints nothing, sets the array CMD
target_cmd() {
  case "$1" in
    probot)              CMD=(env PROBOT_LOG_LEVEL=warn "$HERE/probot-ref/start.sh" "$2") ;;
    probot-info)         CMD=(env PROBOT_LOG_LEVEL=info "$HERE/probot-ref/start.sh" "$2") ;;
    starlette)           CMD=("$HERE/starlette-floor/start.sh" "$2") ;;
    starlette-h11)       CMD=(env FLOOR_HTTP=h11 FLOOR_LOOP=asyncio "$HERE/starlette-floor/start.sh" "$2") ;;
    starlette-accesslog) CMD=(env FLOOR_ACCESS_LOG=1 "$HERE/starlette-floor/start.sh" "$2") ;;
    autostack)           CMD=("$HERE/autostack/start.sh" "$2") ;;
    *) echo "run-matrix.sh: unknown target $1" >&2; exit 2 ;;
  esac
}

{
  echo "# $(date -u +%FT%TZ) rounds=$rounds variant=$variant duration=$duration warmup=$warmup conns=$conns"
  echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); node $(node --version); $("${VENV:-$HERE/.venv}/bin/python" --version 2>&1); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
} | tee "$out/runs.txt"

port_base="${BENCH_PORT_BASE:-3300}"
for r in $(seq 1 "$rounds"); do
  i=0
  for t in $targets; do
    i=$((i + 1))
    port=$((port_base + i))
    target_cmd "$t" "$port"
    for attempt in $(seq 0 "$retries"); do
      line="$(LOG_DIR="$out/logs" "$HERE/ingest.sh" --name "$t" --variant "$variant" --port "$port" \
        --duration "$duration" --warmup "$warmup" --connections "$conns" -- "${CMD[@]}")" \
        || { echo "# round $r target $t FAILED (attempt $attempt)" | tee -a "$out/runs.txt"; continue; }
      core="$(sed -n 's/.* others_on_server_cpu_pct=\([0-9]*\).*/\1/p' <<<"$line")"
      total="$(sed -n 's/.* others_cpu_pct=\([0-9]*\).*/\1/p' <<<"$line")"
      if { [ "${core:-0}" -le "$max_others" ] && [ "${total:-0}" -le "$max_total" ]; } \
         || [ "$attempt" -eq "$retries" ]; then
        echo "$line round=$r" | tee -a "$out/runs.txt"; break
      fi
      echo "# disturbed, repeated: $line round=$r" | tee -a "$out/runs.txt"
    done
  done
done

python3 "$HERE/lib/summarize.py" "$out/runs.txt" | tee "$out/summary.md"
echo "results: $out"
