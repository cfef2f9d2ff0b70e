#!/usr/bin/env bash
# Stops what cluster/up.sh RUN_DIR started (its own process ids only), newest first.
set -uo pipefail
run="${1:?usage: cluster/down.sh RUN_DIR}"
[[ -f "$run/pids" ]] || exit 0
tac "$run/pids" | while read -r pid name; do kill "$pid" 2>/dev/null && echo "stopped $name" >&2; done
sleep 1
tac "$run/pids" | while read -r pid _; do kill -9 "$pid" 2>/dev/null; done
: >"$run/pids"
