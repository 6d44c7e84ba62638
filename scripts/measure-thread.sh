#!/usr/bin/env bash
# measure-thread.sh: the thread model's blocking mechanisms side by side
# (issue 15; the table in models/thread/doc.go comes from here).
#
#   load: for each mechanism, client and level C, RUNS runs of DURATION against
#         a fresh server, medians of: req/s, p99, server CPU busy share (CPU
#         time / wall time of the run), server CPU per request, voluntary and
#         involuntary context switches per request (summed over the server's
#         threads, /proc/PID/task/*/status);
#   idle: memory per idle keep-alive connection at IDLE connections (PSS from
#         smaps_rollup, threads, kernel stack), and the garbage collections run
#         while they opened (GODEBUG=gctrace=1: count, stop-the-world pause,
#         and the last cycle's wall and CPU time).
#
# Each mechanism is the thread model started as the harness starts it
# (GOMAXPROCS unset, pinned to CPU $SERVER_CPU), with C10K_THREAD_MECH set
# to select it (procs-handoff is the default; C10K_THREAD_MAXPROCS, passed
# through, changes its bound); "apache" is Apache worker (if apache2 is installed) for
# scale. Clients are wrk -t1 and `c10k load`, on CPU $CLIENT_CPU.
# Needs wrk (apt-get install -y wrk) and bin/c10k (make build).
#
# Usage: scripts/measure-thread.sh [load|idle|all]
#   MECHS="procs-handoff block procs handoff unlocked apache" LEVELS="10 100 1000 10000"
#   CLIENTS="wrk load" RUNS=3 DURATION=4 IDLE=10000 NICE=0
# NICE<0 raises both sides' priority (as root) when the box is not quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-4}
LEVELS=${LEVELS:-10 100 1000 10000}
CLIENTS=${CLIENTS:-wrk load}
MECHS=${MECHS-procs-handoff block procs handoff unlocked apache}
IDLE=${IDLE:-10000}
PORT=${PORT:-18081}
NICE=${NICE:-0}

# Every connection is a descriptor on each side, plus some to spare.
ulimit -n "$(ulimit -Hn)"

now_ns() { date +%s%N; }

# ctxsw_snapshot PID: "tid voluntary involuntary" for every thread of the
# tree, one awk over all the threads' status files (a thread that exits
# meanwhile is skipped with a warning).
ctxsw_snapshot() {
  local p
  for p in $(tree_pids "$1"); do
    awk 'FNR == 1 && tid != "" {print tid, v, n}
         FNR == 1 {split(FILENAME, a, "/"); tid = a[5]}
         $1 == "voluntary_ctxt_switches:" {v=$2}
         $1 == "nonvoluntary_ctxt_switches:" {n=$2}
         END {if (tid != "") print tid, v, n}' /proc/"$p"/task/*/status 2>/dev/null || true
  done
}

# ctxsw_delta BEFORE AFTER: "voluntary involuntary" switched between the two
# snapshots; threads born since count from zero. Threads that died in
# between are lost: the kernel folds them into no per-process total that
# /proc shows, so connections are kept open for the whole run.
ctxsw_delta() {
  awk 'NR == FNR {v[$1]=$2; n[$1]=$3; next} {dv += $2 - v[$1]; dn += $3 - n[$1]} END {print dv+0, dn+0}' "$1" "$2"
}

# start_apache PORT: Apache worker as the harness configures it.
start_apache() {
  start_peer apache-worker "$1"
}

# start_mech MECH PORT: the thread model with MECH, or Apache worker.
start_mech() {
  local mech=$1 port=$2
  if [ "$mech" = apache ]; then
    start_apache "$port"
    return
  fi
  # The Go servers' GC trace goes to server.err, read by idle.
  C10K_THREAD_MECH=$mech GODEBUG=gctrace=1 nice -n "$NICE" taskset -c "$SERVER_CPU" \
    "$BIN" serve -model thread -addr 127.0.0.1:"$port" >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  wait_listening "$port"
}

# client_run CLIENT CONNS: one bounded run; prints "requests p99_us".
client_run() {
  local client=$1 c=$2
  case $client in
  wrk)
    timeout $((DURATION + 60)) nice -n "$NICE" taskset -c "$CLIENT_CPU" \
      wrk -t1 -c"$c" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/" >"$WORK/client.out" || true
    awk '/requests in/ {n=$1}
         $1 == "99%" {v=$2; u=1; if (v ~ /us$/) u=1; else if (v ~ /ms$/) u=1000; else if (v ~ /s$/) u=1000000
                      sub(/[a-z]+$/, "", v); p=v*u}
         END {print n+0, p+0}' "$WORK/client.out"
    ;;
  load)
    timeout $((DURATION + 60)) nice -n "$NICE" taskset -c "$CLIENT_CPU" \
      "$BIN" load -q -url "http://127.0.0.1:$PORT/" -c "$c" -d "${DURATION}s" -warmup 0s \
      -json "$WORK/load.json" >"$WORK/client.out" 2>&1 || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"], r["latency_us"]["p99"])' "$WORK/load.json"
    ;;
  esac
}

# point MECH CLIENT CONNS: RUNS runs, one line of medians (and the spread of req/s).
# CPU and context switches are read over the middle half of each run, while
# every connection's thread is alive: a thread that ends takes its counts
# with it, so snapshots before and after the run miss every connection
# thread (an earlier version did, and undercounted).
point() {
  local mech=$1 client=$2 c=$3 run t0 t1 w0 w1 n p99 vol inv cpid
  : >"$WORK/pts"
  for run in $(seq 1 "$RUNS"); do
    start_mech "$mech" "$PORT"
    client_run "$client" "$c" >"$WORK/res" &
    cpid=$!
    sleep "$(awk -v d="$DURATION" 'BEGIN {print d/4}')"
    ctxsw_snapshot "$SERVER_PID" >"$WORK/cs0"
    t0=$(cpu_ticks "$SERVER_PID"); w0=$(now_ns)
    sleep "$(awk -v d="$DURATION" 'BEGIN {print d/2}')"
    t1=$(cpu_ticks "$SERVER_PID"); w1=$(now_ns)
    ctxsw_snapshot "$SERVER_PID" >"$WORK/cs1"
    wait "$cpid" || true
    read -r n p99 <"$WORK/res"
    read -r vol inv < <(ctxsw_delta "$WORK/cs0" "$WORK/cs1")
    stop_server
    # ticks are 10 ms: busy % = ticks*1e7 ns / wall ns * 100; per request,
    # over the middle half, at the run's mean rate n/dur.
    awk -v n="$n" -v p="$p99" -v d=$((t1 - t0)) -v w=$((w1 - w0)) -v v="$vol" -v i="$inv" -v dur="$DURATION" 'BEGIN {
      # No answer at all (a level the server never opened): per-request
      # columns are meaningless, printed as 0 beside 0 req/s.
      if (n == 0) {printf "0 0 %.1f 0 0 0\n", d*1e9/w; exit}
      r = n/dur*w/1e9
      printf "%.0f %.0f %.1f %.2f %.3f %.3f\n", n/dur, p, d*1e9/w, d*1e4/r, v/r, i/r }' >>"$WORK/pts"
    printf '  %-8s %-4s c=%-5s run %d: %s\n' "$mech" "$client" "$c" "$run" "$(tail -1 "$WORK/pts")" >&2
  done
  local col med=()
  for col in 1 2 3 4 5 6; do med+=("$(awk -v c=$col '{print $c}' "$WORK/pts" | median)"); done
  printf '| %s | %s | %s | %.0f (%s) | %.2f | %.0f | %.2f | %.3f | %.3f |\n' "$mech" "$client" "$c" \
    "${med[0]}" "$(awk '{print $1}' "$WORK/pts" | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f-%.0f", lo, hi}')" \
    "$(awk -v p="${med[1]}" 'BEGIN {print p/1000}')" "${med[2]}" "${med[3]}" "${med[4]}" "${med[5]}"
}

load() {
  echo "== load: ${DURATION}s runs, median of $RUNS; server CPU $SERVER_CPU, client CPU $CLIENT_CPU, nice $NICE"
  echo "| mechanism | client | C | req/s (spread) | p99 ms | server CPU busy % | server CPU us/req | vol cs/req | invol cs/req |"
  echo "|---|---|---|---|---|---|---|---|---|"
  local m cl c
  for c in $LEVELS; do
    for cl in $CLIENTS; do
      for m in $MECHS; do
        point "$m" "$cl" "$c"
      done
    done
  done
}

# gc_summary: count, median and max stop-the-world pause (the two STW
# clock phases of a gctrace line), and the last cycle's wall and CPU ms.
gc_summary() {
  local pauses
  pauses=$(awk '/^gc [0-9]+ @/ {split($5, clk, "+"); print clk[1] + clk[3]}' "$WORK/server.err" | sort -g)
  if [ -z "$pauses" ]; then echo "no GC cycle"; return; fi
  awk '/^gc [0-9]+ @/ {
      split($5, clk, "+"); split($8, cpu, "[+/]")
      wall = clk[1] + clk[2] + clk[3]; c = 0; for (k in cpu) c += cpu[k]; lastcpu = c; heap = $11 }
    END {printf "last cycle %.2f ms wall, %.2f ms CPU, heap %s MB", wall, lastcpu, heap}' "$WORK/server.err"
  echo "$pauses" | awk '{p[NR]=$1} END {printf "; %d GCs, STW pause median %.3f ms, max %.3f ms", NR, p[int((NR+1)/2)], p[NR]}'
}

# idle_of MECH: memory per idle connection at IDLE connections, and GC.
idle_of() {
  local mech=$1 pss0 thr0 ks0 pss1 thr1 ks1 loadpid i fds=0
  start_mech "$mech" "$PORT"
  sleep 1
  pss0=$(mem_kib "$SERVER_PID" Pss); thr0=$(threads "$SERVER_PID"); ks0=$(meminfo_kib KernelStack)
  # A private copy of the binary: sharing the server's code pages would
  # lower the server's PSS the moment the client starts.
  cp "$BIN" "$WORK/c10k-load"
  timeout 90 nice -n "$NICE" taskset -c "$CLIENT_CPU" "$WORK/c10k-load" load -q -url "http://127.0.0.1:$PORT/" \
    -c 1 -rate 10 -idle "$IDLE" -d "${IDLE_HOLD:-20s}" -json "$WORK/idle.json" >"$WORK/load.out" 2>&1 &
  loadpid=$!
  for i in $(seq 1 240); do
    fds=0
    for p in $(tree_pids "$SERVER_PID"); do
      fds=$((fds + $(ls /proc/"$p"/fd 2>/dev/null | wc -l)))
    done
    [ "$fds" -ge "$IDLE" ] && break
    sleep 0.25
  done
  [ "$fds" -ge "$IDLE" ] || { echo "$mech: only $fds descriptors open; the client said:" >&2; cat "$WORK/load.out" >&2; }
  sleep 2
  pss1=$(mem_kib "$SERVER_PID" Pss); thr1=$(threads "$SERVER_PID"); ks1=$(meminfo_kib KernelStack)
  kill -TERM "$loadpid" 2>/dev/null || true
  wait "$loadpid" 2>/dev/null || true
  stop_server
  printf '| %s | %d | %.0f | %.2f | %.0f | %s |\n' "$mech" "$fds" \
    "$(awk -v d=$((pss1 - pss0)) -v n="$IDLE" 'BEGIN {print d*1024/n}')" \
    "$(awk -v d=$((thr1 - thr0)) -v n="$IDLE" 'BEGIN {print d/n}')" \
    "$(awk -v d=$((ks1 - ks0)) -v n="$IDLE" 'BEGIN {print d*1024/n}')" \
    "$( [ "$mech" = apache ] && echo - || gc_summary)"
}

idle() {
  echo "== idle: $IDLE keep-alive connections held; deltas over the idle server"
  echo "| mechanism | fds | PSS B/conn | threads/conn | kernel stack B/conn | GC while they opened (GODEBUG=gctrace=1) |"
  echo "|---|---|---|---|---|---|"
  local m
  for m in $MECHS; do
    idle_of "$m"
  done
}

case "${1:-all}" in
load) load ;;
idle) idle ;;
all) load; idle ;;
*) echo "usage: $0 [load|idle|all]" >&2; exit 2 ;;
esac
