#!/usr/bin/env bash
# Webhook-ingest benchmark: start a target, check it verifies signatures, warm it up,
# load it with wrk on loopback for a fixed time, stop it, print ONE line of results.
#
# Usage:
#   ingest.sh --port PORT [options] -- START_COMMAND [ARGS...]
#
# Options:
#   --name NAME          label for the result line (default: basename of START_COMMAND)
#   --variant V          good (default) | bad-signature  (same body, wrong X-Hub-Signature-256)
#   --path PATH          webhook path (default /api/github/webhooks)
#   --duration S         measured seconds (default 10)
#   --warmup S           warm-up seconds, discarded (default 5)
#   --connections N      wrk connections (default 32)
#   --threads N          wrk threads (default 1)
#   --no-sanity          skip the good/bad signature check before loading
#
# Environment:
#   WEBHOOK_SECRET   secret shared with the target (default: autostack-bench-secret);
#                    exported to START_COMMAND
#   BODY_FILE        JSON fixture to send (default: the shared push fixture)
#   PIN              1 (default) pins the target to CPU SERVER_CPU and wrk to CPU LOAD_CPU
#   SERVER_CPU, LOAD_CPU   defaults 0 and 1
#   LOG_DIR          where to keep the target's log and wrk's output (default: a temp dir,
#                    removed on exit)
#   QUIET_MAX        before starting, wait until the rest of the machine uses less than this
#                    many cores (default 0.15; 0 disables), for at most QUIET_WAIT s (default 180)
#
# CPU figures are per cent of one core over the measured window: server_cpu_pct for the
# target's main process, group_cpu_pct for it plus its process group and descendants (e.g. a
# database the start command launched). The result line also includes others_cpu_pct: CPU
# used by every other process except wrk, plus hypervisor steal, and
# irq_cpu_pct: interrupt and softirq time (mostly the loopback traffic itself). On a
# shared machine, a run with a high others_cpu_pct was disturbed and should be repeated;
# others_on_server_cpu_pct is the part of it that ran on the target's own (pinned) CPU,
# i.e. what competed with the target directly.
#
# START_COMMAND must run the server in the foreground (exec, no daemonising) on
# 127.0.0.1:PORT. It is started in its own process group, which is signalled on exit.
# Every request goes to 127.0.0.1 only; each wrk run is bounded by --duration.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

name="" variant=good path=/api/github/webhooks duration=10 warmup=5 conns=32 threads=1
port="" sanity=1
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --variant) variant="$2"; shift 2 ;;
    --path) path="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --no-sanity) sanity=0; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "ingest.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$port" ] || { echo "ingest.sh: --port is required" >&2; exit 2; }
[ $# -gt 0 ] || { echo "ingest.sh: START_COMMAND missing after --" >&2; exit 2; }
[ -n "$name" ] || name="$(basename "$1")"
case "$variant" in good|bad-signature) ;; *) echo "ingest.sh: bad --variant" >&2; exit 2 ;; esac
command -v wrk >/dev/null || { echo "ingest.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

export WEBHOOK_SECRET="${WEBHOOK_SECRET:-autostack-bench-secret}"
BODY_FILE="${BODY_FILE:-$HERE/../../tests/fixtures/github-webhooks/push/with-new-branch.payload.json}"
[ -f "$BODY_FILE" ] || { echo "ingest.sh: fixture not found: $BODY_FILE" >&2; exit 1; }

if [ -n "${LOG_DIR:-}" ]; then mkdir -p "$LOG_DIR"; work="$LOG_DIR"; keep=1
else work="$(mktemp -d)"; keep=0; fi
tag="${name}.${variant}.$$"
server_log="$work/$tag.server.log"
wrk_out="$work/$tag.wrk.txt"

# --- request body and signatures -------------------------------------------------------
{ read -r body_bytes; read -r sig_good; read -r sig_bad; } < <(python3 "$HERE/lib/prep_body.py" "$BODY_FILE" "$work/$tag.body.json" "$WEBHOOK_SECRET")
body="$work/$tag.body.json"
[ -n "${sig_bad:-}" ] || { echo "ingest.sh: could not prepare the request body" >&2; exit 1; }
if [ "$variant" = good ]; then sig="$sig_good"; else sig="$sig_bad"; fi
url="http://127.0.0.1:$port$path"

pid=""
pin_server=() pin_load=()
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c "${SERVER_CPU:-0}")
  pin_load=(taskset -c "${LOAD_CPU:-1}")
fi

host_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }   # incl. irq, steal
host_task() { awk '/^cpu / { print $2 + $3 + $4 + $9 }' /proc/stat; }              # user nice sys steal
host_irq()  { awk '/^cpu / { print $7 + $8 }' /proc/stat; }                        # irq softirq
core_task() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $9 }' /proc/stat; }  # one CPU
quiet="n/a"
if awk -v q="${QUIET_MAX:-0.15}" 'BEGIN { exit !(q > 0) }'; then
  quiet=no
  for _ in $(seq 1 "${QUIET_WAIT:-180}"); do
    b0="$(host_busy)"; sleep 1; b1="$(host_busy)"
    if awk -v d=$(( b1 - b0 )) -v hz="$(getconf CLK_TCK)" -v q="${QUIET_MAX:-0.15}" \
         'BEGIN { exit !(d / hz < q) }'; then quiet=yes; break; fi
  done
  [ "$quiet" = yes ] || echo "ingest.sh: machine still busy after ${QUIET_WAIT:-180} s; measuring anyway" >&2
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "ingest.sh: something already listens on 127.0.0.1:$port" >&2; exit 1
fi

# --- start the target in its own process group ------------------------------------------
# Non-interactive bash puts background jobs in the script's process group, so setsid
# does not fork: $! is the server's own PID and also its new process-group id.
"${pin_server[@]}" setsid "$@" >"$server_log" 2>&1 &
pid=$!

alive() {  # running and not a zombie
  [ -r "/proc/$pid/stat" ] && [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat")" != Z ]
}
# The target's "family": its process group plus every descendant (PostgreSQL, for one, puts
# each backend in a process session of its own). family_stat prints "ticks live" for it.
family_stat() {
  # processes come and go while this reads: ignore the ones that vanished (pipefail is on)
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$pid" '
    { p = $1; sub(/^.*\) /, ""); pp[p] = $2; pg[p] = $3; st[p] = $1; t[p] = $12 + $13 }
    END {
      fam[root] = 1
      do { n = 0; for (p in pp) if (!(p in fam) && ((pp[p] in fam) || pg[p] == root)) { fam[p] = 1; n++ } } while (n)
      for (p in fam) if (p in t) { s += t[p]; if (st[p] != "Z") live++ }
      print s + 0, live + 0
    }'
}
group_alive() { [ "$(family_stat | cut -d' ' -f2)" -gt 0 ]; }
stop_target() {
  [ -n "$pid" ] || return 0
  if group_alive; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    # give the whole group (e.g. a database the start command launched) 10 s to exit
    for _ in $(seq 1 100); do group_alive || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_target
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "ingest.sh: $*" >&2
  echo "--- last lines of the target's output ---" >&2
  tail -n 20 "$server_log" >&2 || true
  exit 1
}

for i in $(seq 1 300); do
  alive || fail "target exited during start-up"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/ping" || true)"
  [ "$code" != 000 ] && break
  sleep 0.1
done
[ "$code" != 000 ] || fail "target did not answer on 127.0.0.1:$port within 30 s"

post() {  # post SIGNATURE -> HTTP status code
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$url" \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-GitHub-Delivery: 00000000-0000-4000-8000-$(printf '%012x' "$1")" \
    -H "X-Hub-Signature-256: $2" --data-binary "@$body"
}
sanity_txt="skipped"
if [ "$sanity" = 1 ]; then
  good_code="$(post 1 "$sig_good")"; bad_code="$(post 2 "$sig_bad")"
  sanity_txt="$good_code/$bad_code"
  [[ "$good_code" == 2?? ]] || fail "a correctly signed delivery got HTTP $good_code"
  [[ "$bad_code" == 4?? ]] || fail "a wrongly signed delivery got HTTP $bad_code (must be rejected)"
fi

nonce() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }
run_wrk() {  # run_wrk SECONDS OUTFILE
  "${pin_load[@]}" wrk -t"$threads" -c"$conns" -d"${1}s" --timeout 5s --latency \
    -s "$HERE/wrk/webhook.lua" "$url" -- "$body" "$sig" "$(nonce)" push >"$2" 2>&1
}

[ "$warmup" -gt 0 ] && run_wrk "$warmup" "$work/$tag.warmup.txt"

clk="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"; }
group_ticks() { family_stat | cut -d' ' -f1; }  # CPU ticks of the target's family
# `times` must run in this shell (not in $(...)) to see the CPU time of waited-for children.
child_secs() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }' "$1"; }
srv_core="${SERVER_CPU:-0}"
times >"$work/$tag.times0"; h0="$(host_task)"; q0="$(host_irq)"; k0="$(core_task "$srv_core")"; g0="$(group_ticks)"; t0="$(cpu_ticks)"
run_wrk "$duration" "$wrk_out"
t1="$(cpu_ticks)"; g1="$(group_ticks)"; k1="$(core_task "$srv_core")"; h1="$(host_task)"; q1="$(host_irq)"; times >"$work/$tag.times1"
c0="$(child_secs "$work/$tag.times0")"; c1="$(child_secs "$work/$tag.times1")"
rss_kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
alive || fail "target died under load"
stop_target

res="$(grep '^WRKRESULT' "$wrk_out")" || { cat "$wrk_out" >&2; fail "wrk produced no result"; }
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
ms() { awk -v u="$(get "$1")" 'BEGIN { printf "%.2f", u / 1000 }'; }
sock_err=$(( $(get connect_err) + $(get read_err) + $(get write_err) + $(get timeouts) ))
cpu_pct="$(awk -v a="$t0" -v b="$t1" -v hz="$clk" -v d="$(get duration_us)" \
  'BEGIN { printf "%.0f", (b - a) / hz / (d / 1e6) * 100 }')"
group_pct="$(awk -v a="$g0" -v b="$g1" -v hz="$clk" -v d="$(get duration_us)" \
  'BEGIN { printf "%.0f", (b - a) / hz / (d / 1e6) * 100 }')"
others_pct="$(awk -v h=$(( h1 - h0 )) -v s=$(( g1 - g0 )) -v w="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
  -v hz="$clk" -v d="$(get duration_us)" \
  'BEGIN { o = (h - s) / hz - w; if (o < 0) o = 0; printf "%.0f", o / (d / 1e6) * 100 }')"
# CPU taken on the target's own core by anything else (only meaningful when pinned)
if [ "${#pin_server[@]}" -gt 0 ]; then
  core_others_pct="$(awk -v k=$(( k1 - k0 )) -v s=$(( t1 - t0 )) -v hz="$clk" -v d="$(get duration_us)" \
    'BEGIN { o = (k - s) / hz; if (o < 0) o = 0; printf "%.0f", o / (d / 1e6) * 100 }')"
else core_others_pct="n/a"; fi
irq_pct="$(awk -v q=$(( q1 - q0 )) -v hz="$clk" -v d="$(get duration_us)" 'BEGIN { printf "%.0f", q / hz / (d / 1e6) * 100 }')"
wrk_pct="$(awk -v a="$c0" -v b="$c1" -v d="$(get duration_us)" 'BEGIN { printf "%.0f", (b - a) / (d / 1e6) * 100 }')"

printf 'target=%s variant=%s conns=%s threads=%s duration_s=%s body_bytes=%s rps=%s p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s requests=%s non2xx=%s sock_errors=%s server_cpu_pct=%s group_cpu_pct=%s server_rss_mb=%s wrk_cpu_pct=%s irq_cpu_pct=%s others_cpu_pct=%s others_on_server_cpu_pct=%s quiet_start=%s sanity=%s\n' \
  "$name" "$variant" "$conns" "$threads" "$duration" "$body_bytes" "$(get rps)" \
  "$(ms p50_us)" "$(ms p90_us)" "$(ms p99_us)" "$(ms max_us)" "$(get requests)" \
  "$(get non2xx3xx)" "$sock_err" "$cpu_pct" "$group_pct" "$(( rss_kb / 1024 ))" "$wrk_pct" "$irq_pct" "$others_pct" "$core_others_pct" "$quiet" "$sanity_txt"
