#!/usr/bin/env bash
# Sticky under membership change: latency in back-to-back wrk windows while a 4th node joins (shards are
# handed off to it) and node 3 (or node LEAVER) leaves gracefully on SIGTERM (its shards are handed off first).
# See bench/README.md.
#
#   bench/rebalance.sh                         # about 3 minutes
#   JOIN_AT=8 LEAVE_AT=30 TOTAL=50 bench/rebalance.sh
#   LEAVER=1 bench/rebalance.sh                # the coordinator's node leaves instead of node 3
#   WARMUP_JIT_BELOW=10 LEAVE_AT=60 TOTAL=70 bench/rebalance.sh   # steady windows after the JIT settled, and
#                                              # the leave after the join's JIT work is over
#
# 1. 3 nodes (java -jar target/sticky.jar), HTTP 18180-18182, Hazelcast 15901-15903; --members lists all four
#    cluster ports (15901-15904), so the 4th node (HTTP 18183) can join later.
# 2. Activation: every counter 0..9999 gets one increment through node 2 (parallel curls, each walking a slice
#    of the ids on one keep-alive connection), then a WARMUP-second wrk warm-up with random ids.
# 3. Measurement: `wrk -t1 -cCONNECTIONS -dWINDOW --latency` back to back for TOTAL seconds against node 2 (never
#    node 1, the coordinator, nor node 3, which leaves). At JOIN_AT s node 4 starts; at LEAVE_AT s node LEAVER
#    (3) gets SIGTERM. Each window is printed with its phase (steady / join / leave). Alongside, bench/probe.py sends one
#    GET at a time to node 2 and records every latency in full (wrk drops requests longer than the window).
# 4. Hand-offs from the coordinator's log (node 1): counts, durations and settle times for the join and the leave.
# 5. Consistency: every counter is read back through node 2; the sum must equal the 2xx responses counted.
# Everything binds and talks to 127.0.0.1 only; every JVM and helper started here is stopped on exit.
set -euo pipefail

WINDOW=${WINDOW:-2}
TOTAL=${TOTAL:-40}
JOIN_AT=${JOIN_AT:-10}
LEAVE_AT=${LEAVE_AT:-26}
WARMUP=${WARMUP:-20}
# 0 (default): off. N: after the warm-up, keep warming in 10 s runs until one in which the node JVMs' JIT
# compiler threads used less than N% of the box, for at most WARMUP_JIT_MAX seconds more. The steady windows
# then measure compiled code rather than a JIT still at work (on the 2-core box 10-40 s more, with 20 s of
# WARMUP; docs/benchmarks.md, "Where the CPU of a move goes"). The joining node still starts cold.
WARMUP_JIT_BELOW=${WARMUP_JIT_BELOW:-0}
WARMUP_JIT_MAX=${WARMUP_JIT_MAX:-300}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
# Milliseconds each wrk connection waits after a response before its next request (0: none, as fast as
# possible). With a delay the load stays below saturation, so latency is not all queueing (see wrk-counter.lua).
export WRK_DELAY_MS=${WRK_DELAY_MS:-0}
# wrk's per-request timeout (its default, 2 s, is as long as a window).
WRK_TIMEOUT=${WRK_TIMEOUT:-5}
# 1: the windows count responses per status and per hosting node in Lua (see wrk-counter.lua). It costs wrk
# some CPU, the same in every window, and shows where the load went and what any non-2xx said.
COUNT_STATUS=${COUNT_STATUS:-1}
# Parallel curls for the activation pass.
ACTIVATE_PARALLEL=${ACTIVATE_PARALLEL:-16}
# 1: bench/probe.py (python3) sends one GET at a time, at most every PROBE_INTERVAL_MS, during the windows
# and records every latency in full, also those longer than a window (which wrk drops).
PROBE=${PROBE:-1}
# 1: node 4 is a bare clustered Vert.x JVM (bench/Ceiling.java echo) that joins and hosts nothing, so the
# join costs a JVM start and a Hazelcast join but moves no shard: the membership change's own cost.
NODE4_PLAIN=${NODE4_PLAIN:-0}
PROBE_INTERVAL_MS=${PROBE_INTERVAL_MS:-10}
# CDS=1 (default): every node runs with the class-data-sharing archive the Docker image ships, made here from
# the jar by its training run when missing or stale (bench/common.sh); CDS=0: without it.
# Extra JVM options for every node, e.g. to record a profile of node N (N is substituted):
#   NODE_JAVA_OPTS='-XX:StartFlightRecording=filename=node%N.jfr,settings=profile'
NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-}
# How long the leaving node may take to exit after SIGTERM (its own shutdown hook gives up after 30 s).
EXIT_TIMEOUT=${EXIT_TIMEOUT:-45}
# The node that leaves at LEAVE_AT: 3, or 1 (the first started, so the coordinator's: the coordinator moves
# to node 2, the next oldest, which wrk and the probe go through).
LEAVER=${LEAVER:-3}
if [[ $LEAVER != 1 && $LEAVER != 3 ]]; then
  echo "rebalance.sh: LEAVER must be 1 or 3, got '$LEAVER'" >&2; exit 2
fi
LI=$((LEAVER - 1))

if ! [[ $WRK_DELAY_MS =~ ^[0-9]+$ ]]; then
  echo "WRK_DELAY_MS must be a whole number of milliseconds" >&2
  exit 2
fi
for v in WINDOW TOTAL JOIN_AT LEAVE_AT WARMUP CONNECTIONS THREADS READY_TIMEOUT WRK_TIMEOUT ACTIVATE_PARALLEL EXIT_TIMEOUT PROBE_INTERVAL_MS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} < 1 )); then
    echo "rebalance.sh: $v must be a positive integer, got '${!v}'" >&2; exit 2
  fi
done
if ! (( JOIN_AT < LEAVE_AT && LEAVE_AT + WINDOW <= TOTAL )); then
  echo "rebalance.sh: need JOIN_AT < LEAVE_AT <= TOTAL - WINDOW (got $JOIN_AT, $LEAVE_AT, $TOTAL, $WINDOW)" >&2; exit 2
fi
if (( TOTAL > 600 || WARMUP > 600 )); then
  echo "rebalance.sh: TOTAL and WARMUP are capped at 600 s" >&2; exit 2
fi
[[ $COUNT_STATUS == [01] && $PROBE == [01] ]] || { echo "rebalance.sh: COUNT_STATUS and PROBE must be 0 or 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1

HTTP=(18180 18181 18182 18183)
CLUSTER=(15901 15902 15903 15904)
TARGET=${HTTP[1]}   # node 2: wrk, the activation pass and the read-back all go through it

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/results/rebalance-$STAMP

# shellcheck source=bench/common.sh
source bench/common.sh
# ---------------------------------------------------------------- prerequisites
require_tools rebalance.sh
if [[ $PROBE == 1 ]] && ! command -v python3 >/dev/null; then
  echo "rebalance.sh: python3 not found; running without the latency probe (PROBE=0)" >&2
  PROBE=0
fi

require_free_ports "${HTTP[@]}" "${CLUSTER[@]}"

mkdir -p "$OUT"
prepare_cds

# ---------------------------------------------------------------- process handling
PIDS=()
WRK_PID=""
HELPER_PIDS=()   # activation curls, the probe and the node-3 exit watcher
cleanup() {
  local rc=$? p
  if [[ -n $WRK_PID ]]; then kill -INT "$WRK_PID" 2>/dev/null || true; fi
  for p in "${HELPER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if ((${#PIDS[@]})); then
    ((rc == 0)) || log "exiting with status $rc: stopping the JVMs"
    stop_all
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# alive PID: the process exists and is not a zombie
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# log_issues STOP_TIME FILES...: "name N/M" = WARN/ERROR lines before STOP_TIME / after it, for logback logs.
log_issues() {
  local stop=$1 f; shift
  for f in "$@"; do
    [[ -f $f ]] || continue
    awk -v stop="$stop" -v name="$(basename "$f" .log)" '
      /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] (WARN|ERROR) / { if ($1 < stop) run++; else down++ }
      END { printf "%s %d/%d  ", name, run, down }' "$f"
  done
}

# start NAME CMD...: starts a process with its output in $OUT/NAME.log and records its pid.
LAST_PID=""

# wait_for NAME PID CHECK...: polls CHECK until it succeeds, the process dies, or READY_TIMEOUT passes.
wait_for() {
  local name=$1 pid=$2; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@"; do
    if ! alive "$pid"; then
      tail -n 30 "$OUT/$name.log" >&2 || true
      die "$name (pid $pid) exited before it was ready; log: $OUT/$name.log"
    fi
    ((SECONDS < deadline)) || { tail -n 30 "$OUT/$name.log" >&2; die "$name not ready after ${READY_TIMEOUT}s"; }
    sleep 0.5
  done
  log "$name ready (pid $pid; $*)"
}
# cluster_snapshot LABEL: saves node 2's GET /cluster/shards (the management API, if this build has it).
cluster_snapshot() {
  curl -sf --max-time 3 -o "$OUT/cluster-shards-$1.json" "http://$HOST:$TARGET/cluster/shards" 2>/dev/null \
    || rm -f "$OUT/cluster-shards-$1.json"
}

# ---------------------------------------------------------------- wrk and its output
# run_wrk LABEL PORT SECONDS COUNT_STATUS [quiet]: runs wrk, saves its output to $OUT/wrk-LABEL.txt.
run_wrk() {
  local label=$1 port=$2 secs=$3 count=$4 quiet=${5:-}
  local file=$OUT/wrk-$label.txt
  [[ -n $quiet ]] || log "wrk $label: -t$THREADS -c$CONNECTIONS -d${secs}s against $HOST:$port (load avg $(loadavg))"
  # In the background plus `wait`, so a SIGTERM/SIGINT to this script is handled at once, not after wrk.
  WRK_COUNT_STATUS=$count timeout --signal=INT --kill-after=10 $((secs + 30)) \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout "${WRK_TIMEOUT}s" --latency -s "$LUA" \
    "http://$HOST:$port" >"$file" 2>&1 &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  ((rc == 0)) || log "wrk $label exited with status $rc (see $file)"
}

# to_ms "1.23ms" -> 1.23

# parse FILE -> "rps p50 p99 max requests non2xx sockerr"
parse() {
  local f=$1 rps p50 p99 max reqs non2xx sockerr
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$f")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$f")")
  max=$(to_ms "$(awk '$1 == "Latency" {print $4; exit}' "$f")")
  reqs=$(awk '/requests in/ {print $1; exit}' "$f")
  non2xx=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2; exit}' "$f")
  sockerr=$(awk '/Socket errors:/ {s = $0; sub(/.*Socket errors: /, "", s); gsub(/ /, "", s); print s; exit}' "$f")
  echo "${rps:-?} ${p50:-?} ${p99:-?} ${max:-?} ${reqs:-0} ${non2xx:-0} ${sockerr:-none}"
}

# stats: numbers on stdin -> "count median max" ("0 - -" for none)
stats() {
  grep -E '^[0-9.]+$' | sort -g | awk '{ a[NR] = $1 }
    END { if (NR == 0) { print "0 - -"; exit }
          m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
          printf "%d %g %g\n", NR, m, a[NR] }'
}

# bulk_parse FILE: for curl's "body\ncode\n" per URL -> "sum-of-values count-200 count-other"
bulk_parse() {
  awk 'FNR % 2 == 1 { if (match($0, /"value":[0-9]+/)) v = substr($0, RSTART + 8, RLENGTH - 8) + 0; else v = 0 }
    FNR % 2 == 0 { if ($1 == 200) { ok++; sum += v } else bad++ }
    END { printf "%d %d %d\n", sum, ok, bad }' "$@"
}

# "HH:MM:SS.mmm" -> seconds since midnight (the run must not cross midnight)
secs_of() { awk -v t="$1" 'BEGIN { if (split(t, a, ":") == 3) printf "%.3f", a[1] * 3600 + a[2] * 60 + a[3]; else print "" }'; }

# ready_line LOG -> "HH:MM:SS.mmm node-id" from the node's "node <id> ready: ..." line
ready_line() {
  [[ -f $1 ]] || return 0
  awk '{ for (i = 1; i < NF - 1; i++) if ($i == "node" && $(i + 2) == "ready:") { print $1, $(i + 1); exit } }' "$1"
}

LOAD_START=$(loadavg)
CLUSTER_NAME="sticky-rebalance-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
log "results in $OUT; cluster name $CLUSTER_NAME; load average at start: $LOAD_START"
{
  echo "date: $(date -Iseconds)"; echo "host: $(uname -srm), $(nproc) cores"; echo "java: $(java -version 2>&1 | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"; echo "jar: $(ls -l --time-style=+%F.%T $JAR | awk '{print $6, $5}')"
  echo "WINDOW=$WINDOW TOTAL=$TOTAL JOIN_AT=$JOIN_AT LEAVE_AT=$LEAVE_AT WARMUP=$WARMUP WARMUP_JIT_BELOW=$WARMUP_JIT_BELOW WARMUP_JIT_MAX=$WARMUP_JIT_MAX CONNECTIONS=$CONNECTIONS THREADS=$THREADS"
  echo "HEAP=$HEAP WRK_TIMEOUT=$WRK_TIMEOUT COUNT_STATUS=$COUNT_STATUS ACTIVATE_PARALLEL=$ACTIVATE_PARALLEL PROBE=$PROBE PROBE_INTERVAL_MS=$PROBE_INTERVAL_MS NODE4_PLAIN=$NODE4_PLAIN"
  echo "NODE_JAVA_OPTS=$NODE_JAVA_OPTS STICKY_STORE=${STICKY_STORE:-} STICKY_CONFIG=${STICKY_CONFIG:-} CDS=$CDS"
  [[ -z ${STICKY_CONFIG:-} ]] || { echo "--- $STICKY_CONFIG:"; cat "$STICKY_CONFIG"; }
  echo "cluster name: $CLUSTER_NAME"; echo "load average at start: $LOAD_START"
} >"$OUT/env.txt"

# ---------------------------------------------------------------- 1. three nodes
MEMBERS=$(printf "$HOST:%s," "${CLUSTER[@]}"); MEMBERS=${MEMBERS%,}
NODE_PID=()
start_node() {
  local i=$1
  local -a extra=()
  [[ -z $NODE_JAVA_OPTS ]] || read -r -a extra <<<"${NODE_JAVA_OPTS//%N/$((i + 1))}"
  if ((i == 3)) && [[ $NODE4_PLAIN == 1 ]]; then
    start "node$((i + 1))" java -Xmx"$HEAP" "${extra[@]}" -cp "$JAR" bench/Ceiling.java echo \
      --cluster-name "$CLUSTER_NAME" --cluster-port "${CLUSTER[$i]}" --members "$MEMBERS"
  else
    # --passivate-after off: every counter stays active for the whole run (10k active entities), and with
    # STICKY_STORE=none an idle counter's passivation would drop its value, which the read-back counts as lost.
    start "node$((i + 1))" java -Xmx"$HEAP" "${CDS_OPTS[@]}" "${extra[@]}" -jar "$JAR" --http-host "$HOST" --http-port "${HTTP[$i]}" \
      --host "$HOST" --cluster-name "$CLUSTER_NAME" --cluster-port "${CLUSTER[$i]}" --members "$MEMBERS" --passivate-after off
  fi
  NODE_PID[$i]=$LAST_PID
}
# Node 1 first, so it is the oldest member and runs the coordinator; then 2 and 3 together.
start_node 0
wait_for node1 "${NODE_PID[0]}" http_ready "${HTTP[0]}"
start_node 1
start_node 2
wait_for node2 "${NODE_PID[1]}" http_ready "${HTTP[1]}"
wait_for node3 "${NODE_PID[2]}" http_ready "${HTTP[2]}"

# ---------------------------------------------------------------- 2. activation and warm-up
# One increment for every id 0..9999 through node 2: ACTIVATE_PARALLEL curls, each walking its slice of the
# ids on one keep-alive connection. Every status is recorded, so these increments are counted exactly.
log "activating counters 0..9999 through node 2 ($ACTIVATE_PARALLEL parallel curls)"
ACT_START=$(now_ms)
per=$(((10000 + ACTIVATE_PARALLEL - 1) / ACTIVATE_PARALLEL))
for ((k = 0; k < ACTIVATE_PARALLEL; k++)); do
  lo=$((k * per)); hi=$(((k + 1) * per - 1)); ((hi > 9999)) && hi=9999; ((lo > hi)) && break
  curl -s --max-time 120 -w '\n%{http_code}\n' -X POST -H 'Content-Type: application/json' -d '{"op":"increment"}' \
    "http://$HOST:$TARGET/entities/counter/[$lo-$hi]" >"$OUT/activate-$k.txt" 2>/dev/null &
  HELPER_PIDS+=($!)
done
for p in "${HELPER_PIDS[@]}"; do wait "$p" || true; done
HELPER_PIDS=()
ACT_MS=$(($(now_ms) - ACT_START))
read -r _ ACT_OK ACT_BAD < <(bulk_parse "$OUT"/activate-*.txt)
ACT_LINE="activation: $ACT_OK of 10000 ids answered 200 in $(awk -v m="$ACT_MS" 'BEGIN { printf "%.1f", m / 1000 }') s"
ACT_LINE+=" ($(awk -v m="$ACT_MS" 'BEGIN { printf "%.0f", (m > 0 ? 10000000 / m : 0) }') req/s)"
((ACT_BAD == 0)) || ACT_LINE+="; $ACT_BAD did not: $(awk 'FNR % 2 == 0 && $1 != 200 { c[$1]++ } END { for (k in c) printf "%s x%d ", k, c[k] }' "$OUT"/activate-*.txt)"
log "$ACT_LINE"

# The allocation before the join, taken before the warm-up: the first management call in a JVM costs its nodes
# about a second of CPU each (the JIT throws away hot compiled code whose type profiles it breaks, then
# compiles it again; measured in docs/benchmarks.md, "Where the CPU of a move goes"). In the warm-up
# that cost is absorbed, in the steady windows it would inflate the baseline.
cluster_snapshot 1-before
# The probe's GETs run in the warm-up too: the first GETs after a warm-up of POSTs alone made the nodes
# compile again (the JIT at 33-60% of the box in the first steady windows, 153637).
WARMUP_PROBE_PID=""
if [[ $PROBE == 1 ]]; then
  python3 bench/probe.py "$HOST" "$TARGET" 900 "$PROBE_INTERVAL_MS" "$OUT/probe-warmup.txt" 2>"$OUT/probe-warmup.err" &
  WARMUP_PROBE_PID=$!; HELPER_PIDS+=("$WARMUP_PROBE_PID")
fi
run_wrk warmup "$TARGET" "$WARMUP" 1
WARMUP_JIT_LINE=""
if ((WARMUP_JIT_BELOW > 0)); then
  extra=0; k=0
  while :; do
    jw0=$(jit_threads "${NODE_PID[@]}"); read -r _ tw0 < <(cpu_jiffies)
    run_wrk "warmup-jit$k" "$TARGET" 10 1 quiet
    read -r _ tw1 < <(cpu_jiffies); jw1=$(jit_threads "${NODE_PID[@]}")
    jit_share=$(jit_pct "$jw0" "$jw1" $((tw1 - tw0)))
    extra=$((extra + 10)); k=$((k + 1))
    log "extra warm-up $k (10 s): the JIT used ${jit_share}% of the box"
    ((jit_share < WARMUP_JIT_BELOW || extra >= WARMUP_JIT_MAX)) && break
  done
  WARMUP_JIT_LINE="extra warm-up until the JIT used < ${WARMUP_JIT_BELOW}% of the box in 10 s: ${extra} s (JIT in the last 10 s: ${jit_share}%)"
fi
if [[ -n $WARMUP_PROBE_PID ]]; then kill -TERM "$WARMUP_PROBE_PID" 2>/dev/null || true; wait "$WARMUP_PROBE_PID" 2>/dev/null || true; fi

# ---------------------------------------------------------------- 3. measured windows with a join and a leave
NWIN=$(((TOTAL + WINDOW - 1) / WINDOW))
log "measuring: $NWIN windows of ${WINDOW}s against node 2; node 4 joins at ~${JOIN_AT}s, node $LEAVER leaves (SIGTERM) at ~${LEAVE_AT}s"
printf 'window\tstart\tend\tcpu\tjit\tphase\tevent\n' >"$OUT/windows.tsv"
JOIN_TOD=""; LEAVE_TOD=""; SNAP2=""; PHASE=steady
PROBE_PID=""
if [[ $PROBE == 1 ]]; then
  python3 bench/probe.py "$HOST" "$TARGET" 600 "$PROBE_INTERVAL_MS" "$OUT/probe.txt" 2>"$OUT/probe.err" &
  PROBE_PID=$!; HELPER_PIDS+=("$PROBE_PID")
fi
T0_MS=$(now_ms); T0_TOD=$(tod)
for ((w = 0; w < NWIN; w++)); do
  el=$(($(now_ms) - T0_MS)); event=""
  if [[ -z $JOIN_TOD ]] && ((el >= JOIN_AT * 1000)); then
    start_node 3
    JOIN_TOD=$(tod); PHASE=join; event="node4 started"
    log "t=$(awk -v m="$el" 'BEGIN { printf "%.1f", m / 1000 }')s: started node 4 (pid ${NODE_PID[3]})"
  fi
  # The allocation before the leave, three windows ahead of it (not before the join): the management call is
  # first-run code on node 4, and its JIT work (several seconds of a core on the 2-core box) would otherwise
  # fall in the leave's first windows.
  if [[ -z $SNAP2 ]] && ((el >= (LEAVE_AT - 3 * WINDOW > JOIN_AT ? LEAVE_AT - 3 * WINDOW : JOIN_AT) * 1000)) && [[ -n $JOIN_TOD ]]; then
    cluster_snapshot 2-before-leave; SNAP2=1
  fi
  if [[ -z $LEAVE_TOD ]] && ((el >= LEAVE_AT * 1000)); then
    LEAVE_TOD=$(tod); PHASE=leave; event="SIGTERM node$LEAVER"
    kill -TERM "${NODE_PID[LI]}" 2>/dev/null || log "WARNING: node $LEAVER was not running at the leave"
    # Records when the leaving node has exited (the JVM, not only its log).
    (p=${NODE_PID[LI]}; while alive "$p"; do sleep 0.05; done; tod >"$OUT/leaver-exit.txt") &
    HELPER_PIDS+=($!)
    log "t=$(awk -v m="$el" 'BEGIN { printf "%.1f", m / 1000 }')s: sent SIGTERM to node $LEAVER (pid ${NODE_PID[LI]})"
  fi
  jit0=$(jit_threads "${NODE_PID[@]}"); ws=$(tod); read -r cb0 ct0 < <(cpu_jiffies)
  run_wrk "$(printf 'win%02d' "$w")" "$TARGET" "$WINDOW" "$COUNT_STATUS" quiet
  read -r cb1 ct1 < <(cpu_jiffies); jit1=$(jit_threads "${NODE_PID[@]}")
  # the box's CPU use in the window (%, all cores): how close to saturation the window ran
  cpu=$(((cb1 - cb0) * 100 / (ct1 > ct0 ? ct1 - ct0 : 1)))
  # of that, the node JVMs' JIT compiler threads (same unit: % of the whole box)
  jit=$(jit_pct "$jit0" "$jit1" $((ct1 - ct0)))
  printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$ws" "$(tod)" "$cpu" "$jit" "$PHASE" "$event" >>"$OUT/windows.tsv"
done
log "windows done"
# The probe's request in flight, if any, is written out as unanswered (-1) with the time it had waited.
if [[ -n $PROBE_PID ]]; then kill -TERM "$PROBE_PID" 2>/dev/null || true; wait "$PROBE_PID" 2>/dev/null || true; fi

# Node 3 must have exited by now, or within EXIT_TIMEOUT of its SIGTERM.
deadline=$(($(secs_of "$LEAVE_TOD" | cut -d. -f1) + EXIT_TIMEOUT))
while [[ ! -s $OUT/leaver-exit.txt ]] && (($(secs_of "$(tod)" | cut -d. -f1) < deadline)); do sleep 0.2; done
N3_EXIT=$(cat "$OUT/leaver-exit.txt" 2>/dev/null || true)
[[ -n $N3_EXIT ]] || log "WARNING: node $LEAVER had not exited ${EXIT_TIMEOUT}s after SIGTERM"
if alive "${NODE_PID[LI]}"; then
  N3_RC="still running"
else
  N3_RC=0; wait "${NODE_PID[LI]}" 2>/dev/null || N3_RC=$?
fi

# ---------------------------------------------------------------- consistency
count_2xx=$ACT_OK; runs=0
for f in "$OUT"/wrk-*.txt; do
  read -r _ _ _ _ r n _ < <(parse "$f")
  count_2xx=$((count_2xx + r - n)); runs=$((runs + 1))
done
log "reading counters 0..9999 back through node 2"
cluster_snapshot 3-after-leave
curl -s --max-time 120 -w '\n%{http_code}\n' "http://$HOST:$TARGET/entities/counter/[0-9999]" >"$OUT/readback.txt" || true
# Reads that did not answer 200 (e.g. a shard in the middle of a hand-off) are retried up to 3 times, 5 s apart.
RB_FIRST=$(awk 'FNR % 2 == 1 { b = $0 } FNR % 2 == 0 && $1 != 200 { printf "id %d: %s %s\n", FNR / 2 - 1, $1, b }' "$OUT/readback.txt")
if [[ -n $RB_FIRST ]]; then
  echo "$RB_FIRST" >"$OUT/readback-first-pass-failures.txt"
  log "$(wc -l <<<"$RB_FIRST") read(s) did not answer 200; retrying them"
  for attempt in 1 2 3; do
    bad_ids=$(awk 'FNR % 2 == 0 && $1 != 200 { print FNR / 2 - 1 }' "$OUT/readback.txt")
    [[ -n $bad_ids ]] || break
    sleep 5
    for id in $bad_ids; do
      line=$(curl -s --max-time 30 -w '\n%{http_code}' "http://$HOST:$TARGET/entities/counter/$id" | tr '\n' '\t')
      awk -v id="$id" -v body="${line%%$'\t'*}" -v code="${line##*$'\t'}" \
        'FNR == 2 * id + 1 { print body; next } FNR == 2 * id + 2 { print code; next } { print }' \
        "$OUT/readback.txt" >"$OUT/readback.tmp" && mv "$OUT/readback.tmp" "$OUT/readback.txt"
    done
  done
fi
read -r RB_SUM RB_OK RB_BAD < <(bulk_parse "$OUT/readback.txt")
RB_ZERO=$(awk 'FNR % 2 == 1 { z = ($0 ~ /"value":0[^0-9]/) } FNR % 2 == 0 && $1 == 200 && z { n++ } END { print n + 0 }' "$OUT/readback.txt")
CONSISTENCY="sum of counters $RB_SUM vs. 2xx counted $count_2xx ($ACT_OK activation + $runs wrk runs; +0..$((runs * CONNECTIONS)) in flight): "
if ((RB_OK != 10000)); then
  CONSISTENCY+="INCOMPLETE, only $RB_OK of 10000 reads answered 200 ($RB_BAD did not)"
elif ((RB_SUM >= count_2xx && RB_SUM <= count_2xx + runs * CONNECTIONS)); then
  CONSISTENCY+="OK (+$((RB_SUM - count_2xx)))"
else
  CONSISTENCY+="MISMATCH (difference $((RB_SUM - count_2xx)))"
fi
log "$CONSISTENCY"
LOAD_END=$(loadavg)
stop_all
log "nodes stopped"

# ---------------------------------------------------------------- 4. analysis
declare -A NAME_OF=() ID_OF=() READY_AT=()
for i in 1 2 3 4; do
  read -r t id < <(ready_line "$OUT/node$i.log"; echo) || true
  if [[ -n ${id:-} ]]; then NAME_OF[$id]=node$i; ID_OF[node$i]=$id; READY_AT[node$i]=$t; fi
done
N3_ID=${ID_OF[node$LEAVER]:-?}; N4_ID=${ID_OF[node4]:-?}; N4_READY=${READY_AT[node4]:-}

# Every hand-off line (normally all in node 1's log: it hosts the coordinator) as
# "seconds time type shard from to epoch entities durationMs log".
: >"$OUT/handoffs.txt"
for f in "$OUT"/node*.log; do
  awk -v src="$(basename "$f" .log)" '/ShardCoordinator - hand-off type=/ {
      split($1, a, ":"); delete v
      for (i = 1; i <= NF; i++) { p = index($i, "="); if (p > 1) v[substr($i, 1, p - 1)] = substr($i, p + 1) }
      printf "%.3f %s %s %s %s %s %s %s %s %s\n", a[1] * 3600 + a[2] * 60 + a[3], $1, v["type"], v["shard"], v["from"], v["to"], v["epoch"], v["entities"], v["durationMs"], src
    }' "$f"
done | sort -g >"$OUT/handoffs.txt"
# Abandoned hand-offs as "seconds time type/shard from reason" (reason cut before the reply address).
for f in "$OUT"/node*.log; do
  awk '/ShardCoordinator - hand-off of .* abandoned: / {
      split($1, a, ":"); r = $0; sub(/.* abandoned: /, "", r); sub(/\. address: .*/, "", r)
      for (i = 1; i < NF; i++) if ($i == "of") { key = $(i + 1); from = $(i + 3); break }
      printf "%.3f %s %s %s %s\n", a[1] * 3600 + a[2] * 60 + a[3], $1, key, from, r
    }' "$f"
done | sort -g >"$OUT/abandoned.txt"
# abandoned_between FROM TO -> "N (reason xK, ...)" for the abandoned hand-offs with FROM <= time < TO
abandoned_between() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 < b { n++; r = $5; for (i = 6; i <= NF; i++) r = r " " $i; gsub(/[A-Za-z0-9_.-]+\/[0-9]+/, "<shard>", r); c[r]++ }
    END { printf "%d", n; if (n) { printf " ("; sep = ""; for (k in c) { printf "%s%s x%d", sep, k, c[k]; sep = "; " } printf ")" } }' "$OUT/abandoned.txt"
}
# Exceptions logged after an ERROR line, per node: "node1: ConcurrentModificationException at ShardRegion.stopShard(ShardRegion.java:578) x2"
EXCEPTIONS=$(for f in "$OUT"/node*.log; do
  awk -v name="$(basename "$f" .log)" '
    / ERROR / { want = 1; ex = ""; next }
    want && ex == "" && /^[A-Za-z_$][A-Za-z0-9_$.]*(Exception|Error)/ { ex = $1; sub(/:$/, "", ex); n = split(ex, p, "."); ex = p[n]; next }
    want && ex != "" && /^[ \t]+at io\.sticky\./ { fr = $2; sub(/^io\.sticky\.([a-z]+\.)*/, "", fr); c[ex " at " fr]++; want = 0; next }
    want && ex != "" && !/^[ \t]/ { c[ex]++; want = 0 }
    END { for (k in c) printf "  %s: %s x%d\n", name, k, c[k] }' "$f"
done)

J0=$(secs_of "$JOIN_TOD"); L0=$(secs_of "$LEAVE_TOD"); S0=$(secs_of "$STOP_AT")
# hand-offs logged before the final stop by a coordinator other than node 1's
HO_ELSEWHERE=$(awk -v s="$S0" '$1 < s && $10 != "node1"' "$OUT/handoffs.txt" | wc -l)
X3=$(secs_of "${N3_EXIT:-$STOP_AT}"); R4=$(secs_of "${N4_READY:-}")
# handoffs_between FROM TO -> the hand-off lines with FROM <= time < TO
handoffs_between() { awk -v a="$1" -v b="$2" '$1 >= a && $1 < b' "$OUT/handoffs.txt"; }
handoffs_between "$J0" "$L0" >"$OUT/handoffs-join.txt"
handoffs_between "$L0" "$(awk -v x="$X3" 'BEGIN { printf "%.3f", x + 0.001 }')" >"$OUT/handoffs-leave.txt"
handoffs_between "$(awk -v x="$X3" 'BEGIN { printf "%.3f", x + 0.001 }')" "$S0" >"$OUT/handoffs-after.txt"

# move_report FILE START_SECS LABEL: "N hand-offs (x to/from ...), durationMs median m max M, entities E, last at +Ts"
move_report() {
  local f=$1 start=$2 n med max ents last
  read -r n med max < <(awk '{ print $9 }' "$f" | stats)
  ents=$(awk '{ s += $8 } END { print s + 0 }' "$f")
  last=$(awk -v s="$start" 'END { if (NR) printf "%.1f", $1 - s; else print "-" }' "$f")
  printf '%d hand-offs, durationMs median %s max %s, %d entities moved, last one %s s after the start' "$n" "$med" "$max" "$ents" "$last"
}
JOIN_N=$(wc -l <"$OUT/handoffs-join.txt"); LEAVE_N=$(wc -l <"$OUT/handoffs-leave.txt"); AFTER_N=$(wc -l <"$OUT/handoffs-after.txt")
JOIN_TO4=$(awk -v n="$N4_ID" '$6 == n' "$OUT/handoffs-join.txt" | wc -l)
LEAVE_FROM3=$(awk -v n="$N3_ID" '$5 == n' "$OUT/handoffs-leave.txt" | wc -l)
JOIN_LAST=$(awk 'END { if (NR) print $1 }' "$OUT/handoffs-join.txt")
LEAVE_LAST=$(awk 'END { if (NR) print $1 }' "$OUT/handoffs-leave.txt")
diff_s() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }' || echo "?"; }
JOIN_SETTLE=$(diff_s "$R4" "$JOIN_LAST")
N4_START_S=$(diff_s "$J0" "$R4")
LEAVE_HANDOFF_S=$(diff_s "$L0" "$LEAVE_LAST")
LEAVE_EXIT_S=$(diff_s "$L0" "${N3_EXIT:+$X3}")
JOIN_GAP=$(diff_s "$JOIN_LAST" "$L0")
N3_LEFT_LINE=$(grep -h 'handed off .* shard(s); leaving' "$OUT/node$LEAVER.log" | head -1 || true)
N3_LEAVING_LINE=$(grep -h "is leaving: handing off" "$OUT"/node*.log | head -1 || true)
N3_SHUTDOWN_WARN=$(grep -hE 'not all handed off|clean shutdown did not finish' "$OUT/node$LEAVER.log" || true)

# Per-window table: offset, req/s, latency, errors, hand-offs completed in the window, share of responses per
# hosting node (count mode only), phase and events.
T0S=$(secs_of "$T0_TOD")
WIN_TABLE=$OUT/windows.txt
{
  printf '%6s %7s %8s %8s %8s %7s %8s %11s %4s  %-23s %5s %5s %-6s %s\n' "t(s)" "req/s" "p50 ms" "p99 ms" "max ms" non-2xx "sock.err" "probe max" "h-o" \
    "served n1/n2/n3/n4 %" "cpu %" "jit %" phase events
  tail -n +2 "$OUT/windows.tsv" | while IFS=$'\t' read -r w ws we cpu jit phase event; do
    f=$OUT/$(printf 'wrk-win%02d.txt' "$w")
    read -r rps p50 p99 max reqs non sock < <(parse "$f")
    # "connect0,read0,write0,timeout2" -> 2 (the details stay in the wrk file)
    sock=$(awk -v s="$sock" 'BEGIN { n = 0; while (match(s, /[0-9]+/)) { n += substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH) } print n }')
    a=$(secs_of "$ws"); b=$(secs_of "$we")
    # a window owns the hand-offs from its start to the next window's start
    nxt=$(awk -F'\t' -v w="$w" 'NR > 1 && $1 == w + 1 { print $2 }' "$OUT/windows.tsv")
    [[ -n $nxt ]] && b=$(secs_of "$nxt")
    ho=$(handoffs_between "$a" "$b" | wc -l)
    served="-"
    if [[ $COUNT_STATUS == 1 ]]; then
      served=$(awk -v n1="${ID_OF[node1]:-}" -v n2="${ID_OF[node2]:-}" -v n3="${ID_OF[node3]:-}" -v n4="${ID_OF[node4]:-}" '
        $1 == "NODE" { t += $3; if ($2 == n1) c1 += $3; else if ($2 == n2) c2 += $3; else if ($2 == n3) c3 += $3; else if ($2 == n4) c4 += $3 }
        END { if (t) printf "%.0f/%.0f/%.0f/%.0f", 100 * c1 / t, 100 * c2 / t, 100 * c3 / t, 100 * c4 / t; else print "-" }' "$f")
    fi
    ev=$event
    for pair in "node4 ready:$R4" "node$LEAVER exited:${N3_EXIT:+$X3}"; do
      t=${pair##*:}; [[ -n $t ]] || continue
      awk -v t="$t" -v a="$a" -v b="$b" 'BEGIN { exit !(t >= a && t < b) }' && ev+="${ev:+, }${pair%%:*} (+$(diff_s "$a" "$t")s)"
    done
    # the slowest probe request that started in this window (it may have finished much later)
    pmax=-
    [[ -s $OUT/probe.txt ]] && pmax=$(awk -v a="$a" -v b="$b" '$1 >= a && $1 < b { n++; if ($2 > m) m = $2 } END { if (n) printf "%.0f", m; else print "-" }' "$OUT/probe.txt")
    printf '%6.1f %7s %8s %8s %8s %7s %8s %11s %4s  %-23s %5s %5s %-6s %s\n' "$(awk -v a="$a" -v s="$T0S" 'BEGIN { print a - s }')" \
      "$rps" "$p50" "$p99" "$max" "$non" "$sock" "$pmax" "$ho" "$served" "$cpu" "$jit" "$phase" "$ev"
  done
} >"$WIN_TABLE"

# Phase figures from the table (columns: 1 t, 2 req/s, 3 p50, 4 p99, 5 max, 6 non-2xx, 7 sock, 8 probe max,
# 9 h-o, 10 served, 11 cpu, 12 jit, 13 phase)
col() { awk -v c="$1" -v p="$2" 'NR > 1 && $13 == p { print $c }' "$WIN_TABLE"; }
read -r ST_N ST_P50 _ < <(col 3 steady | stats)
read -r _ ST_P99 _ < <(col 4 steady | stats)
read -r _ ST_RPS _ < <(col 2 steady | stats)
read -r _ _ J_P99 < <(col 4 join | stats)
read -r _ _ L_P99 < <(col 4 leave | stats)
read -r _ _ J_MAX < <(col 5 join | stats)
read -r _ _ L_MAX < <(col 5 leave | stats)
read -r _ J_RPS _ < <(col 2 join | stats)
read -r _ L_RPS _ < <(col 2 leave | stats)
read -r _ _ HO_P99 < <(awk 'NR > 1 && $9 > 0 { print $4 }' "$WIN_TABLE" | stats)
# The same without the windows in which a JVM starts (node 4 started or became ready) or leaves the cluster
# (the leaving node exited): what the moves cost, apart from the membership changes that come with them.
read -r _ _ HO_ONLY_P99 < <(awk 'NR > 1 && $9 > 0 && !/node4 started|node4 ready|node[13] exited/ { print $4 }' "$WIN_TABLE" | stats)
read -r _ _ ST_PR < <(col 8 steady | stats)
read -r _ ST_CPU _ < <(col 11 steady | stats)
read -r _ ST_JIT _ < <(col 12 steady | stats)
read -r _ _ HO_CPU < <(awk 'NR > 1 && $9 > 0 { print $11 }' "$WIN_TABLE" | stats)
read -r _ _ HO_JIT < <(awk 'NR > 1 && $9 > 0 { print $12 }' "$WIN_TABLE" | stats)
read -r _ _ J_PR < <(col 8 join | stats)
read -r _ _ L_PR < <(col 8 leave | stats)
# probe_report: requests, non-200, > 1 s, and the slowest ones with their start offset
probe_report() {
  [[ -s $OUT/probe.txt ]] || { echo "  (no probe)"; return; }
  awk -v t0="$T0S" -v j="$J0" -v l="$L0" '
    { n++; if ($3 != 200) { bad[$3]++; nb++ } if ($2 > 1000) slow++ }
    END { printf "  %d GETs, %d over 1 s, not 200:", n, slow; if (nb == 0) printf " none"
          for (k in bad) printf " %s x%d", (k == -1 ? "unanswered-at-stop" : (k == 0 ? "conn-error/timeout" : k)), bad[k]; printf "\n" }' "$OUT/probe.txt"
  sort -k2,2 -g -r "$OUT/probe.txt" | head -5 | awk -v t0="$T0S" -v j="$J0" -v l="$L0" '
    { printf "  slowest: started at t=%.1fs (%s), %.0f ms, status %s\n", $1 - t0, ($1 < j ? "steady" : ($1 < l ? "join" : "leave")), $2, $3 }' || true
  awk -v t0="$T0S" '$3 != 200 && NF > 3 && !seen[$3]++ { d = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ ?/, "", d)
    printf "  first %s at t=%.1fs: %s\n", $3, $1 - t0, substr(d, 1, 250) }' "$OUT/probe.txt"
}
# share (%) of node N in the last window of a phase, from the served column
share() { awk -v p="$1" -v n="$2" 'NR > 1 && $13 == p { s = $10 } END { if (s == "" || s == "-") print "?"; else { split(s, a, "/"); print a[n] } }' "$WIN_TABLE"; }
N4_SHARE=$(share join 4); N3_SHARE=$(share leave "$LEAVER")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "?" }'; }
W_NON=$(awk 'NR > 1 { s += $6 } END { print s + 0 }' "$WIN_TABLE")
W_SOCK=$(awk 'NR > 1 { n += $7 } END { print n + 0 }' "$WIN_TABLE")
read -r WU_RPS WU_P50 WU_P99 WU_MAX WU_REQ WU_NON WU_SOCK < <(parse "$OUT/wrk-warmup.txt")
STATUS_ALL=$(cat "$OUT"/wrk-win*.txt "$OUT"/wrk-warmup*.txt | awk '$1 == "STATUS" { c[$2] += $3 } END { for (k in c) printf "%s x%d  ", k, c[k] }')
ISSUES=$(log_issues "$STOP_AT" "$OUT"/node1.log "$OUT"/node2.log "$OUT"/node3.log "$OUT"/node4.log)

# ---------------------------------------------------------------- 5. summary
{
  echo
  echo "== Sticky rebalance: wrk -t$THREADS -c$CONNECTIONS --latency in ${WINDOW}s windows against node 2, POST /entities/counter/<0..9999>"
  echo "   node 4 joins at ~${JOIN_AT}s, node $LEAVER leaves (SIGTERM) at ~${LEAVE_AT}s; h-o = hand-offs completed in the window;"
  echo "   probe max = slowest probe GET that started in the window (ms, however long it took)"
  cat "$WIN_TABLE"
  echo
  echo "latency (ms; median over the $ST_N steady windows, worst window of each move):"
  printf '  steady        p50 %s  p99 %s  (median %s req/s; probe max %s; box CPU %s%%, of it JIT %s%%)\n' "$ST_P50" "$ST_P99" "$ST_RPS" "$ST_PR" "$ST_CPU" "$ST_JIT"
  printf '  join  worst   p99 %s  max %s  (median %s req/s; probe max %s)  worst-p99/steady-p99 %s\n' "$J_P99" "$J_MAX" "$J_RPS" "$J_PR" "$(ratio "$J_P99" "$ST_P99")"
  printf '  leave worst   p99 %s  max %s  (median %s req/s; probe max %s)  worst-p99/steady-p99 %s\n' "$L_P99" "$L_MAX" "$L_RPS" "$L_PR" "$(ratio "$L_P99" "$ST_P99")"
  printf '  windows with hand-offs: worst p99 %s (x%s steady); box CPU up to %s%%, JIT up to %s%%\n' "$HO_P99" "$(ratio "$HO_P99" "$ST_P99")" "$HO_CPU" "$HO_JIT"
  printf '  ... of them, windows where no node starts or exits: worst p99 %s (x%s steady)\n' "${HO_ONLY_P99:-?}" "$(ratio "${HO_ONLY_P99:-0}" "$ST_P99")"
  echo "probe (one GET at a time through node 2, every latency in full):"
  probe_report
  echo "join (node 4 = ${N4_ID}):"
  echo "  node 4 started ${JOIN_TOD:-?}, ready ${N4_READY:-never} (${N4_START_S}s after start)"
  echo "  $(move_report "$OUT/handoffs-join.txt" "$R4") (node 4 ready); $JOIN_TO4 of them to node 4"
  echo "  settle time (node 4 ready -> last hand-off before the leave): ${JOIN_SETTLE}s; the last one was ${JOIN_GAP}s before the SIGTERM"
  echo "  abandoned hand-offs: $(abandoned_between "$J0" "$L0")"
  echo "  node 4 served $N4_SHARE% of the last join window's responses (25% when the 4 nodes are balanced)"
  if [[ $N4_SHARE =~ ^[0-9]+$ ]] && ((N4_SHARE < 20)); then
    echo "  NOTE: the join had NOT settled when the leave began (node 4 far below its share), so the settle time above"
    echo "        is only the time to the last hand-off that completed; look for a stuck hand-off (abandoned later, WARN in node 1's log)"
  fi
  ((LEAVE_N == LEAVE_FROM3)) || echo "  NOTE: $((LEAVE_N - LEAVE_FROM3)) hand-off(s) after the SIGTERM were not from node $LEAVER: the join's rebalance was still running"
  echo "leave (node $LEAVER = ${N3_ID}):"
  echo "  SIGTERM ${LEAVE_TOD:-?}, node $LEAVER exited ${N3_EXIT:-?} (exit status $N3_RC)"
  echo "  $(move_report "$OUT/handoffs-leave.txt" "$L0") (SIGTERM); $LEAVE_FROM3 of them from node $LEAVER"
  echo "  settle time: SIGTERM -> last hand-off ${LEAVE_HANDOFF_S}s, SIGTERM -> node $LEAVER exited ${LEAVE_EXIT_S}s"
  echo "  abandoned hand-offs: $(abandoned_between "$L0" "$(awk -v x="$X3" 'BEGIN { printf "%.3f", x + 0.001 }')")"
  echo "  node $LEAVER served $N3_SHARE% of the last window's responses"
  [[ -z $N3_LEAVING_LINE ]] || echo "  coordinator: ${N3_LEAVING_LINE#* - }"
  [[ -z $N3_LEFT_LINE ]] || echo "  node $LEAVER:      ${N3_LEFT_LINE#* - }"
  [[ -z $N3_SHUTDOWN_WARN ]] || echo "  node $LEAVER WARN: $N3_SHUTDOWN_WARN"
  if [[ $LEAVER == 1 ]]; then
    # the next coordinator (on the next oldest member) starts once node 1 has left the cluster
    NEXT_COORD=$(grep -H 'coordinator recovered' "$OUT"/node[234].log | awk -v l="$LEAVE_TOD" '{ split($0, a, ".log:"); if (a[2] > l) print a[2] " " a[1] }' \
      | sort | head -1 || true)
    NC_AT=${NEXT_COORD%% *}; NC_NODE=${NEXT_COORD##*/}
    echo "  next coordinator (${NC_NODE:-?}): recovered the table at ${NC_AT:-?} (+$(diff_s "$L0" "$(secs_of "${NC_AT:-}")")s after the SIGTERM): $(echo "$NEXT_COORD" | sed 's/.* - //; s/ [^ ]*$//')"
  fi
  echo "hand-offs after node $LEAVER exited (until the final stop): $AFTER_N; abandoned: $(abandoned_between "$(awk -v x="$X3" 'BEGIN { printf "%.3f", x + 0.001 }')" "$S0"); during the final stop: $(abandoned_between "$S0" 999999)"
  ((HO_ELSEWHERE == 0)) || echo "NOTE: $HO_ELSEWHERE hand-off line(s) before the final stop were logged by a node other than node 1 (the coordinator moved)"
  echo "non-2xx in the windows: $W_NON; socket errors in the windows: $W_SOCK; warm-up: non-2xx $WU_NON, socket errors $WU_SOCK"
  [[ -z $STATUS_ALL ]] || echo "status counts (warm-up and windows): $STATUS_ALL"
  if [[ $W_NON != 0 || $WU_NON != 0 ]]; then
    echo "NOTE: non-2xx responses; sample bodies:"
    cat "$OUT"/wrk-win*.txt "$OUT"/wrk-warmup*.txt | grep '^SAMPLE ' | sort -u -k2,2 | sed 's/^/  /' || true
  fi
  echo "$ACT_LINE"
  printf 'warm-up (%ss, random ids): %s req/s, p50 %s ms, p99 %s ms, max %s ms\n' "$WARMUP" "$WU_RPS" "$WU_P50" "$WU_P99" "$WU_MAX"
  [[ -z $WARMUP_JIT_LINE ]] || echo "$WARMUP_JIT_LINE"
  echo "consistency: $CONSISTENCY"
  ((RB_ZERO == 0)) || echo "  $RB_ZERO ids read back as 0 although each got at least 1 increment: their state was lost"
  [[ -z $RB_FIRST ]] || { echo "  first read-back pass, not 200 (then retried):"; head -5 <<<"$RB_FIRST" | cut -c1-300 | sed 's/^/    /'; }
  [[ -z $EXCEPTIONS ]] || { echo "exceptions in the node logs:"; echo "$EXCEPTIONS"; }
  echo "WARN/ERROR log lines per node, while running/at the final stop: $ISSUES"
  echo "load average: start $LOAD_START, end $LOAD_END ($(nproc) cores)"
  echo
  echo "raw wrk output, node logs and hand-off lists: $OUT/"
  echo "rerun: WINDOW=$WINDOW TOTAL=$TOTAL JOIN_AT=$JOIN_AT LEAVE_AT=$LEAVE_AT WARMUP=$WARMUP WARMUP_JIT_BELOW=$WARMUP_JIT_BELOW CONNECTIONS=$CONNECTIONS WRK_DELAY_MS=$WRK_DELAY_MS STICKY_STORE=${STICKY_STORE:-} STICKY_CONFIG=${STICKY_CONFIG:-} NODE4_PLAIN=$NODE4_PLAIN LEAVER=$LEAVER CDS=$CDS bench/rebalance.sh"
} | tee "$OUT/summary.txt"
