#!/usr/bin/env bash
# First run, side by side: from a fresh clone to the first answer of /healthz, for the set-up
# before issue 19 (every dependency, dev tools included, byte-compiled) and for `make run` now
# (runtime dependencies only: no dev tools, no kubernetes client or boto3, the `eks` extra).
# Each variant gets empty pip and uv caches of its own, as a new machine has, so both download
# what they install. Prints seconds, .venv size and the ratio.
#   bench/first-run/run.sh [ROUNDS]     (default 1; rounds alternate the order)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
rounds="${1:-1}"
python="$(command -v python3.11 || command -v python3)"
work="$(mktemp -d /tmp/autostack-first-run.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# FIRST_RUN_PORT_BASE: where the ports start (serve on base+2.., its router 400 above), below
# the ephemeral range so no outgoing download can hold one
port_base="${FIRST_RUN_PORT_BASE:-$((23000 + RANDOM % 500))}"

# The dependency set before the split: the runtime, eks and dev locks together, as one file was.
cat "$root/requirements.lock" "$root/requirements-eks.lock" "$root/requirements-dev.lock" | grep -v '^#' >"$work/all.lock"

wait_healthz() { # port pid -> seconds waited, or fails when serve exits
  for _ in $(seq 1 6000); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

one() { # variant round -> "variant seconds venv_mb"
  local variant="$1" n="$2" dir="$work/$1-$2" offset=0
  [[ "$variant" == now ]] && offset=1
  local port=$((port_base + n * 2 + offset))
  git clone -q "$root" "$dir"
  cp "$work/all.lock" "$dir/all.lock"
  export PIP_CACHE_DIR="$dir.pip-cache" UV_CACHE_DIR="$dir.uv-cache"
  local started
  started=$(date +%s.%N)
  if [[ "$variant" == before ]]; then
    (cd "$dir" && "$python" -m venv .venv && .venv/bin/python -m pip install -q --upgrade pip &&
      .venv/bin/python -m pip install -q -r all.lock && .venv/bin/python -m pip install -q --no-deps -e . &&
      touch .venv/.installed)
    (cd "$dir" && PORT=$port ROUTER_PORT=$((port + 400)) exec setsid .venv/bin/autostack serve >"$dir.log" 2>&1) &
  else
    (cd "$dir" && PORT=$port ROUTER_PORT=$((port + 400)) exec setsid make run >"$dir.log" 2>&1) &
  fi
  local pid=$!
  wait_healthz "$port" "$pid" || { echo "serve did not answer ($variant):" >&2; tail -5 "$dir.log" >&2; exit 1; }
  local took
  took=$(python3 -c "import time; print(f'{time.time() - $started:.0f}')")
  kill -INT -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$variant $took $(du -sm "$dir/.venv" | cut -f1)"
  unset PIP_CACHE_DIR UV_CACHE_DIR
  rm -rf "$dir.pip-cache" "$dir.uv-cache"
}

results=()
for n in $(seq 1 "$rounds"); do
  if ((n % 2)); then order=(before now); else order=(now before); fi
  for v in "${order[@]}"; do results+=("$(one "$v" "$n")"); done
done
printf '%-8s %8s %8s\n' variant seconds venv_MB
printf '%s\n' "${results[@]}" | awk '{printf "%-8s %8s %8s\n", $1, $2, $3}'
printf '%s\n' "${results[@]}" | awk '$1=="before"{b+=$2;nb++} $1=="now"{a+=$2;na++}
  END {printf "ratio now/before: %.2f (target <= 0.33)\n", (a/na)/(b/nb)}'
