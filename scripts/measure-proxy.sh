#!/usr/bin/env bash
# measure-proxy.sh: the figures of issue 10, servers as reverse proxies.
#
# A backend (`c10k serve -model epoll -wait 10ms`) and the client
# (`c10k load`) share CPU $CLIENT_CPU; the server under test is pinned to
# CPU $SERVER_CPU: our models with -upstream, the peers through `c10k peer`
# (the harness's own configurations).
#
#   cpu:    server CPU per proxied request, C=100 and C=1000, RUNS runs, medians;
#   gather: p50/p99 at C=100 with K backend calls per request (K=16 by default);
#   c4k:    throughput and p99 at C=4000, every server.
#
# Usage: scripts/measure-proxy.sh [cpu|gather|c4k|all]
#   SERVERS="thread goroutine epoll nginx apache-event apache-worker apache-prefork"
#   RUNS=3 DURATION=4s WAIT=10ms K=16
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-4s}
WAIT=${WAIT:-10ms}
K=${K:-16}
PORT=${PORT:-18090}
BACKEND_PORT=${BACKEND_PORT:-18091}
SERVERS=${SERVERS-thread goroutine epoll nginx apache-event apache-worker apache-prefork}
BACKEND_PID=

ulimit -n "$(ulimit -Hn)"

start_backend() {
  taskset -c "$CLIENT_CPU" "$BIN" serve -model epoll -addr 127.0.0.1:"$BACKEND_PORT" -wait "$WAIT" \
    >"$WORK/backend.out" 2>"$WORK/backend.err" &
  BACKEND_PID=$!
  wait_listening "$BACKEND_PORT"
}

stop_backend() {
  kill -TERM "$BACKEND_PID" 2>/dev/null || true
  wait "$BACKEND_PID" 2>/dev/null || true
  BACKEND_PID=
}
trap 'stop_backend; cleanup' EXIT

# start_proxy SERVER FANOUT: the server under test in front of the backend.
start_proxy() {
  local s=$1 k=$2
  case "$s" in
    thread|goroutine|epoll|uring) start_model "$s" "$PORT" -upstream 127.0.0.1:"$BACKEND_PORT" -fanout "$k" ;;
    *) start_peer "$s" "$PORT" -upstream 127.0.0.1:"$BACKEND_PORT" -fanout "$k" ;;
  esac
}

# load_run C: "rps p50_us p99_us requests errors" of one c10k load run.
load_run() {
  taskset -c "$CLIENT_CPU" "$BIN" load -url "http://127.0.0.1:$PORT/" -c "$1" -d "$DURATION" -warmup 1s \
    -json "$WORK/load.json" >/dev/null 2>"$WORK/load.err" || true
  # The JSON's top-level keys, one per line; no jq on a fresh machine.
  awk -F'[:,]' '
    /"rps":/ && !rps {rps = $2}
    /"requests":/ && !req {req = $2}
    /"p50":/ && !p50 {p50 = $2}
    /"p99":/ && !p99 {p99 = $2}
    /"errors": *\{/ {inerr = 1; next}
    inerr && /\}/ {inerr = 0}
    inerr {errs += $2}
    END {print rps + 0, p50 + 0, p99 + 0, req + 0, errs + 0}' "$WORK/load.json"
}

# measure SERVER C K: one fresh server, one run; prints
# "rps p50 p99 errors us_per_req".
measure() {
  local s=$1 c=$2 k=$3 t0 t1 rps p50 p99 n errs
  start_proxy "$s" "$k"
  t0=$(cpu_ticks "$SERVER_PID")
  read -r rps p50 p99 n errs < <(load_run "$c")
  t1=$(cpu_ticks "$SERVER_PID")
  stop_server
  # The window includes the 1 s warm-up: CPU per request over every
  # request the run sent, answered or not, is close enough at these rates.
  awk -v d=$((t1 - t0)) -v n="$n" -v r="$rps" -v p50="$p50" -v p99="$p99" -v e="$errs" \
    'BEGIN {w = (n > 0) ? r * (n / r + 1) : 0; printf "%.0f %.0f %.0f %d %.1f\n", r, p50, p99, e, (w > 0) ? d * 10000 / w : 0}'
}

# row SERVER C K: RUNS runs, medians, one Markdown row.
row() {
  local s=$1 c=$2 k=$3 run
  : >"$WORK/rows"
  for run in $(seq 1 "$RUNS"); do
    measure "$s" "$c" "$k" | tee -a "$WORK/rows" | sed "s/^/  $s C=$c K=$k run $run: /" >&2
  done
  local med
  med() { awk -v f="$1" '{print $f}' "$WORK/rows" | median; }
  printf '| %s | %d | %d | %.0f | %.1f | %.1f | %.0f | %.1f |\n' "$s" "$c" "$k" \
    "$(med 1)" "$(awk -v v="$(med 2)" 'BEGIN {print v / 1000}')" "$(awk -v v="$(med 3)" 'BEGIN {print v / 1000}')" "$(med 4)" "$(med 5)"
}

header() {
  echo "| server | C | K | req/s | p50 ms | p99 ms | errors | server CPU us/req |"
  echo "|---|---|---|---|---|---|---|---|"
}

can_fanout() { case "$1" in thread|goroutine|epoll|uring|nginx) return 0 ;; esac; return 1; }

mode=${1:-all}
start_backend
echo "== proxy: backend $WAIT on CPU $CLIENT_CPU with c10k load; server on CPU $SERVER_CPU; $DURATION runs (+1 s warm-up), median of $RUNS"
header
for s in $SERVERS; do
  case "$mode" in cpu|all) row "$s" 100 1; row "$s" 1000 1 ;; esac
done
case "$mode" in gather|all)
  for s in $SERVERS; do can_fanout "$s" && row "$s" 100 "$K"; done ;;
esac
case "$mode" in c4k|all)
  for s in $SERVERS; do RUNS=1 row "$s" 4000 1; done ;;
esac
