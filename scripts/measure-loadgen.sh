#!/usr/bin/env bash
# measure-loadgen.sh: the load generator's figures beside wrk's.
#
#   cpu       req/s and client CPU per request, c10k load vs wrk -t1, -c100 -d10s, 3 runs, medians
#   pipeline  c10k load -pipeline 16 responses/s
#   idle      the most idle connections one generator process holds
#   freeze    open loop at 2000 req/s, server frozen (SIGSTOP) for 1 s: p99 and count, beside wrk
#   open      open loop at $RATES req/s, -c100 -d5s, polling (-spin 50us) and sleeping (-spin 0):
#             client CPU per request, busiest loop's working share, late sends, p50/p99
#   ports     ephemeral ports run out: with net.ipv4.ip_local_port_range narrowed to 1,000 ports
#             for the run (root; restored on exit, and not part of "all"), -idle 3000 over as
#             many 127.0.0.x sources as needed, then the same with -sources 1
#
# The epoll model on CPU $SERVER_CPU (0), the client on CPU $CLIENT_CPU (1).
# Needs wrk (apt-get install -y wrk) and bin/c10k (make build).
# Usage: scripts/measure-loadgen.sh [cpu|pipeline|idle|freeze|open|ports|all]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${RUNS:-3}
PORT=${PORT:-18081}
URL=http://127.0.0.1:$PORT/

# client_cpu CMD...: runs CMD pinned to the client CPU and prints the CPU
# ticks it used (reaped children's utime+stime of this subshell).
client_cpu() {
  sh -c 'taskset -c '"$CLIENT_CPU"' "$@" >'"$WORK"'/client.out 2>&1; sed "s/.*) //" /proc/$$/stat | awk "{print \$14 + \$15}"' sh "$@"
}

cpu() {
  echo "== client CPU per request: -c100 -d10s against the epoll model"
  start_model epoll "$PORT"
  : >"$WORK/wrk.rps"; : >"$WORK/wrk.us"; : >"$WORK/our.rps"; : >"$WORK/our.us"
  local run ticks n rps
  for run in $(seq 1 "$RUNS"); do
    ticks=$(client_cpu wrk -t1 -c100 -d10s "$URL")
    read -r rps n < <(awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {print r, n}' "$WORK/client.out")
    echo "$rps" >>"$WORK/wrk.rps"
    awk -v t="$ticks" -v n="$n" 'BEGIN {printf "%.2f\n", t * 10000 / n}' | tee -a "$WORK/wrk.us" >/dev/null
    ticks=$(client_cpu "$BIN" load -q -url "$URL" -c 100 -d 10s -json "$WORK/our.json")
    read -r rps n < <(awk -F'[:,]' '/"rps"/ && !r {r=$2} /"requests"/ && !n {n=$2} END {print r, n}' "$WORK/our.json")
    echo "$rps" >>"$WORK/our.rps"
    awk -v t="$ticks" -v n="$n" 'BEGIN {printf "%.2f\n", t * 10000 / n}' >>"$WORK/our.us"
    printf '  run %d: wrk %s us/req, c10k load %s us/req\n' "$run" "$(tail -1 "$WORK/wrk.us")" "$(tail -1 "$WORK/our.us")" >&2
  done
  stop_server
  printf 'wrk -t1      %10.0f req/s  %5.2f us client CPU/request\n' "$(median <"$WORK/wrk.rps")" "$(median <"$WORK/wrk.us")"
  printf 'c10k load    %10.0f req/s  %5.2f us client CPU/request  (ratio %.2f)\n' "$(median <"$WORK/our.rps")" "$(median <"$WORK/our.us")" \
    "$(awk -v a="$(median <"$WORK/our.us")" -v b="$(median <"$WORK/wrk.us")" 'BEGIN {print a / b}')"
}

pipeline() {
  echo "== pipelined: c10k load -c 100 -pipeline 16 -d 10s against the epoll model"
  start_model epoll "$PORT"
  taskset -c "$CLIENT_CPU" "$BIN" load -q -url "$URL" -c 100 -pipeline 16 -d 10s -json "$WORK/pipe.json" >/dev/null
  stop_server
  awk -F'[:,]' '/"rps"/ {printf "c10k load -pipeline 16: %.0f responses/s\n", $2}' "$WORK/pipe.json"
}

idle() {
  echo "== idle: as many idle connections as one generator process can hold"
  start_model epoll "$PORT"
  taskset -c "$CLIENT_CPU" "$BIN" load -q -url "$URL" -c 1 -rate 10 -idle "${IDLE:-25000}" -connect-rate 10000 -d 3s \
    -json "$WORK/idle.json" >"$WORK/idle.out" 2>&1 || true
  stop_server
  grep -E '"idle_(requested|alive)"|"message"' "$WORK/idle.json" | tr -d ' ,'
}

# freeze_server: SIGSTOP the server 4 s into the run, SIGCONT 1 s later.
freeze_server() {
  sleep 4; kill -STOP "$SERVER_PID"; sleep 1; kill -CONT "$SERVER_PID"
}

freeze() {
  echo "== freeze: open loop 2000 req/s, -c 100 -d 10s, server SIGSTOPped from 4 s to 5 s"
  start_model epoll "$PORT"
  local freezer
  freeze_server &
  freezer=$!
  taskset -c "$CLIENT_CPU" "$BIN" load -q -url "$URL" -c 100 -rate 2000 -d 10s -json "$WORK/open.json" >/dev/null || true
  wait "$freezer"
  awk -F'[:,]' '/"requests"/ && !r {r=$2} /"p99"/ && !p {p=$2} END {printf "c10k load -rate 2000 (open):  requests %d  p99 %.1f ms\n", r, p/1000}' "$WORK/open.json"
  freeze_server &
  freezer=$!
  taskset -c "$CLIENT_CPU" "$BIN" load -q -url "$URL" -c 100 -d 10s -json "$WORK/closed.json" >/dev/null || true
  wait "$freezer"
  awk -F'[:,]' '/"requests"/ && !r {r=$2} /"p99"/ && !p {p=$2} END {printf "c10k load closed loop:       requests %d  p99 %.1f ms\n", r, p/1000}' "$WORK/closed.json"
  freeze_server &
  freezer=$!
  taskset -c "$CLIENT_CPU" wrk -t1 -c100 -d10s --latency "$URL" >"$WORK/wrk.out"
  wait "$freezer"
  awk '/requests in/ {n=$1} $1 == "99%" {p=$2} END {printf "wrk -t1 -c100 (closed):      requests %d  p99 %s\n", n, p}' "$WORK/wrk.out"
  stop_server
}

# open_at RATE SPIN: one open-loop run; prints its line of the table.
open_at() {
  local rate=$1 spin=$2 ticks
  ticks=$(client_cpu "$BIN" load -q -url "$URL" -c 100 -rate "$rate" -d 5s -spin "$spin" -json "$WORK/rate.json")
  python3 - "$WORK/rate.json" "$ticks" "$spin" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
us = int(sys.argv[2]) * 10000 / max(r["requests"], 1)
print("  %7d req/s  -spin %-5s  %6.2f us client CPU/req  loop busy %3.0f%%  late %7d  p50 %6d us  p99 %8d us"
      % (r["rate"], sys.argv[3], us, 100 * r["loop_busy"], r["late"], r["latency_us"]["p50"], r["latency_us"]["p99"]))
PY
}

open() {
  echo "== open loop: c10k load -c 100 -rate R -d 5s against the epoll model, polling vs sleeping"
  start_model epoll "$PORT"
  local rate
  for rate in ${RATES:-10000 20000 50000 100000 200000}; do
    open_at "$rate" 50us
    open_at "$rate" 0
  done
  stop_server
}

ports() {
  echo "== ports: ip_local_port_range narrowed to 40000-40999, -c 10 -idle 3000"
  local old
  old=$(sysctl -n net.ipv4.ip_local_port_range | tr '\t' ' ')
  trap 'sysctl -qw net.ipv4.ip_local_port_range="'"$old"'"; cleanup' EXIT
  start_model epoll "$PORT"
  sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
  local sources
  for sources in 0 1; do
    taskset -c "$CLIENT_CPU" "$BIN" load -q -url "$URL" -c 10 -idle 3000 -connect-rate 5000 -d 2s -sources "$sources" \
      -json "$WORK/ports.json" >/dev/null 2>&1 || true
    python3 - "$WORK/ports.json" "$sources" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  -sources %s: %d source addresses, idle %d opened of %d, connect errors %d%s"
      % (sys.argv[2], r["sources"], r["idle_opened"], r["idle_requested"], r["idle_errors"]["connect"] + r["errors"]["connect"],
         ("; " + r["message"]) if r["message"] else ""))
PY
  done
  sysctl -qw net.ipv4.ip_local_port_range="$old"
  stop_server
}

case "${1:-all}" in
cpu) cpu ;;
pipeline) pipeline ;;
idle) idle ;;
freeze) freeze ;;
open) open ;;
ports) ports ;;
all) cpu; pipeline; idle; freeze; open ;;
*) echo "usage: $0 [cpu|pipeline|idle|freeze|open|ports|all]" >&2; exit 2 ;;
esac
