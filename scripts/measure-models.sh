#!/usr/bin/env bash
# measure-models.sh: the server figures behind the models' closing notes.
#
#   1. req/s and server CPU time per request, wrk -t1 -c100 -d10s, 3 runs, medians,
#      for each model and for nginx (one worker);
#   2. pipelined (16 requests per write) responses/s of the epoll model;
#   3. memory per idle keep-alive connection at 10,000 connections;
#   4. system calls per request: `c10k load -c100` for $DURATION while
#      `perf stat -e raw_syscalls:sys_enter` counts every system call the
#      server's threads make (needs perf), and server CPU per request by
#      c10k load instead of wrk.
#
# Server pinned to CPU $SERVER_CPU (0), clients to CPU $CLIENT_CPU (1).
# Needs wrk and nginx (apt-get install -y wrk nginx) and bin/c10k (make build).
# Usage: scripts/measure-models.sh [throughput|pipeline|idle|syscalls|all]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-100}
IDLE=${IDLE:-10000}
PORT=${PORT:-18080}
MODELS=${MODELS-thread goroutine epoll}

# wrk_run PORT: prints "req/s requests". $WRK_ARGS go before the URL
# (wrk's options), $WRK_SCRIPT_ARGS after it (the Lua script's arguments).
wrk_run() {
  local port=$1
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" ${WRK_ARGS:-} "http://127.0.0.1:$port/" \
    ${WRK_SCRIPT_ARGS:+-- $WRK_SCRIPT_ARGS} >"$WORK/wrk.out"
  awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {print r, n}' "$WORK/wrk.out"
}

# throughput_of NAME START_CMD...: RUNS runs of wrk against a fresh server each.
throughput_of() {
  local name=$1 run rps n t0 t1
  shift
  : >"$WORK/rps" ; : >"$WORK/us"
  for run in $(seq 1 "$RUNS"); do
    "$@"
    t0=$(cpu_ticks "$SERVER_PID")
    read -r rps n < <(wrk_run "$PORT")
    t1=$(cpu_ticks "$SERVER_PID")
    stop_server
    echo "$rps" >>"$WORK/rps"
    # ticks are 10 ms: us per request = ticks * 10000 / requests
    awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN {printf "%.2f\n", d * 10000 / n}' >>"$WORK/us"
    printf '  %-10s run %d: %10.0f req/s  %6s us CPU/req\n' "$name" "$run" "$rps" "$(tail -1 "$WORK/us")" >&2
  done
  printf '%-10s %10.0f req/s  %6.2f us server CPU/request  (median of %d)\n' \
    "$name" "$(median <"$WORK/rps")" "$(median <"$WORK/us")" "$RUNS"
}

throughput() {
  echo "== throughput: wrk -t1 -c$CONNS -d$DURATION, server CPU $SERVER_CPU, wrk CPU $CLIENT_CPU"
  local m
  for m in $MODELS; do
    throughput_of "$m" start_model "$m" "$PORT"
  done
  if command -v nginx >/dev/null; then
    throughput_of nginx start_nginx "$PORT"
  fi
}

pipeline() {
  echo "== pipelined: wrk -t1 -c$CONNS -d$DURATION -s scripts/pipeline.lua -- 16"
  local m
  for m in ${PIPELINE_MODELS:-epoll}; do
    WRK_ARGS="-s scripts/pipeline.lua" WRK_SCRIPT_ARGS=16 throughput_of "$m" start_model "$m" "$PORT"
  done
  if command -v nginx >/dev/null; then
    WRK_ARGS="-s scripts/pipeline.lua" WRK_SCRIPT_ARGS=16 throughput_of nginx start_nginx "$PORT"
  fi
}

# idle_of NAME START_CMD...: memory per idle connection at $IDLE connections.
idle_of() {
  local name=$1 pss0 rss0 thr0 ks0 pt0 slab0 pss1 rss1 thr1 ks1 pt1 slab1 loadpid
  shift
  "$@"
  sleep 1
  pss0=$(mem_kib "$SERVER_PID" Pss); rss0=$(mem_kib "$SERVER_PID" Rss); thr0=$(threads "$SERVER_PID")
  ks0=$(meminfo_kib KernelStack); pt0=$(meminfo_kib PageTables); slab0=$(meminfo_kib Slab)
  # The load generator opens the idle pool, one request each, then holds it.
  # It runs from a private copy of the binary: sharing the server's code
  # pages would lower the server's PSS the moment it starts.
  cp "$BIN" "$WORK/c10k-load"
  taskset -c "$CLIENT_CPU" "$WORK/c10k-load" load -url "http://127.0.0.1:$PORT/" -c 1 -rate 10 \
    -idle "$IDLE" -d "${IDLE_HOLD:-20s}" -json "$WORK/idle.json" >"$WORK/load.out" 2>&1 &
  loadpid=$!
  # Wait until the server holds the pool (its fd count reaches IDLE), at most 60 s.
  local i fds=0
  for i in $(seq 1 240); do
    fds=$(ls /proc/"$SERVER_PID"/fd 2>/dev/null | wc -l)
    for p in $(tree_pids "$SERVER_PID" | tail -n +2); do
      fds=$((fds + $(ls /proc/"$p"/fd 2>/dev/null | wc -l)))
    done
    [ "$fds" -ge "$IDLE" ] && break
    sleep 0.25
  done
  sleep 2 # let the last requests finish and the allocator settle
  pss1=$(mem_kib "$SERVER_PID" Pss); rss1=$(mem_kib "$SERVER_PID" Rss); thr1=$(threads "$SERVER_PID")
  ks1=$(meminfo_kib KernelStack); pt1=$(meminfo_kib PageTables); slab1=$(meminfo_kib Slab)
  kill -TERM "$loadpid" 2>/dev/null || true
  wait "$loadpid" 2>/dev/null || true
  stop_server
  awk -v n="$IDLE" -v name="$name" -v fds="$fds" \
    -v pss=$((pss1 - pss0)) -v rss=$((rss1 - rss0)) -v thr=$((thr1 - thr0)) \
    -v ks=$((ks1 - ks0)) -v pt=$((pt1 - pt0)) -v slab=$((slab1 - slab0)) 'BEGIN {
      printf "%-10s %6d fds: PSS %7.0f B/conn  RSS %7.0f B/conn  threads %.2f/conn  kernel stack %6.0f B/conn  page tables %5.0f B/conn  slab %6.0f B/conn (both socket ends)\n",
        name, fds, pss*1024/n, rss*1024/n, thr/n, ks*1024/n, pt*1024/n, slab*1024/n }'
}

idle() {
  echo "== idle: $IDLE keep-alive connections held, deltas over the idle server"
  local m
  for m in $MODELS; do
    idle_of "$m" start_model "$m" "$PORT"
  done
  if command -v nginx >/dev/null; then
    idle_of nginx start_nginx "$PORT"
  fi
}

# syscalls_of NAME START_CMD...: RUNS runs of c10k load against a fresh
# server each, counting the server's system calls with perf.
syscalls_of() {
  local name=$1 run t0 t1 n calls pids
  shift
  : >"$WORK/calls" ; : >"$WORK/us"
  for run in $(seq 1 "$RUNS"); do
    "$@"
    pids=$(tree_pids "$SERVER_PID" | paste -sd,)
    perf stat -x, -e raw_syscalls:sys_enter -p "$pids" -o "$WORK/perf.out" &
    local perfpid=$!
    sleep 0.2
    t0=$(cpu_ticks "$SERVER_PID")
    taskset -c "$CLIENT_CPU" "$BIN" load -q -url "http://127.0.0.1:$PORT/" -c "$CONNS" -d "$DURATION" -json "$WORK/load.json" >/dev/null 2>&1
    t1=$(cpu_ticks "$SERVER_PID")
    kill -INT "$perfpid"; wait "$perfpid" 2>/dev/null || true
    stop_server
    n=$(sed -n 's/.*"requests": *\([0-9]*\).*/\1/p' "$WORK/load.json" | head -1)
    calls=$(awk -F, '/raw_syscalls/ {print $1}' "$WORK/perf.out")
    awk -v c="$calls" -v n="$n" 'BEGIN {printf "%.3f\n", c / n}' >>"$WORK/calls"
    awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN {printf "%.2f\n", d * 10000 / n}' >>"$WORK/us"
    printf '  %-10s run %d: %8d requests  %8d system calls  %s per request  %s us CPU/req\n' \
      "$name" "$run" "$n" "$calls" "$(tail -1 "$WORK/calls")" "$(tail -1 "$WORK/us")" >&2
  done
  printf '%-10s %6.3f system calls per request  %6.2f us server CPU/request, c10k load -c%d (median of %d)\n' \
    "$name" "$(median <"$WORK/calls")" "$(median <"$WORK/us")" "$CONNS" "$RUNS"
}

syscalls() {
  echo "== system calls per request: c10k load -c$CONNS -d$DURATION, perf stat on the server's threads"
  local m
  for m in $MODELS; do
    syscalls_of "$m" start_model "$m" "$PORT"
  done
  if command -v nginx >/dev/null; then
    syscalls_of nginx start_nginx "$PORT"
  fi
}

case "${1:-all}" in
throughput) throughput ;;
pipeline) pipeline ;;
idle) idle ;;
syscalls) syscalls ;;
all) throughput; pipeline; idle; syscalls ;;
*) echo "usage: $0 [throughput|pipeline|idle|syscalls|all]" >&2; exit 2 ;;
esac
