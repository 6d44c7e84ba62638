# Shared helpers for the measurement scripts: start a server pinned to a CPU,
# read its CPU time and memory from /proc, stop it by PID.
# Sourced, not run.

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BIN=${BIN:-bin/c10k}
WORK=$(mktemp -d /tmp/c10k-measure.XXXXXX)
SERVER_PID=

cleanup() {
  if [ -n "$SERVER_PID" ]; then stop_server; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# tree_pids PID: PID and all its descendants.
tree_pids() {
  local pid=$1 child
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    tree_pids "$child"
  done
}

# cpu_ticks PID: utime+stime of the whole tree, in clock ticks (1/100 s).
cpu_ticks() {
  local total=0 p t
  for p in $(tree_pids "$1"); do
    # Fields after the last ')': state is $1, utime $12, stime $13.
    t=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13}')
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# mem_kib PID FIELD: sum of Pss or Rss (smaps_rollup) over the tree, KiB.
mem_kib() {
  local total=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk -v f="$2:" '$1 == f {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# threads PID: threads over the tree.
threads() {
  local total=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '$1 == "Threads:" {print $2}' /proc/"$p"/status 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

meminfo_kib() { awk -v f="$1:" '$1 == f {print $2}' /proc/meminfo; }

# start_model MODEL PORT [serve flags...]: pinned before exec, so every thread inherits.
start_model() {
  local model=$1 port=$2
  shift 2
  taskset -c "$SERVER_CPU" "$BIN" serve -model "$model" -addr 127.0.0.1:"$port" "$@" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  wait_listening "$port"
}

# start_nginx PORT [c10k peer flags...]: one worker, access log off, 14-byte
# body: `c10k peer` renders the harness's own template and execs nginx, so
# $SERVER_PID is its master.
start_nginx() {
  start_peer nginx "$@"
}

# start_peer NAME PORT [c10k peer flags...]: a peer exactly as the harness
# configures it, pinned before exec.
start_peer() {
  local name=$1 port=$2
  shift 2
  rm -rf "$WORK/$name"
  chmod 755 "$WORK" # Apache's children, run as another user, must reach their document root
  ${NICE:+nice -n "$NICE"} taskset -c "$SERVER_CPU" "$BIN" peer -name "$name" -port "$port" -dir "$WORK/$name" "$@" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  wait_listening "$port"
}

wait_listening() {
  local i
  for i in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/"; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 did not come up:" >&2
  cat "$WORK/server.err" >&2
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# median of the numbers on stdin.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
