#!/usr/bin/env bash
# The protocol's own cost of moving shards, with no JVM starting or stopping: 3 warm nodes under steady load,
# node 3 drained through the management API (its shards move to nodes 1 and 2) and later undrained (shards
# move back). Latency in back-to-back wrk windows against node 2, each compared with the steady windows'
# median p99. See bench/README.md.
#
#   bench/moves.sh                        # about 2 minutes
#   RUNS=3 bench/moves.sh                 # three runs, one cluster each, and a line per run
#   WRK_DELAY_MS=10 CONNECTIONS=16 bench/moves.sh   # below saturation (see wrk-counter.lua)
#   WARMUP_MOVES=0 bench/moves.sh         # the moves' code cold: its compilation lands in the windows
#
# 1. 3 nodes (java -jar target/sticky.jar, the default store), HTTP 18480-18482, Hazelcast 15941-15943.
# 2. WARMUP seconds of wrk with random counters 0..9999 through node 2 (activates them, warms the JIT); with
#    WARMUP_MOVES=1 node 3 is drained and undrained meanwhile, then 10 s more once no hand-off runs.
# 3. TOTAL seconds of WINDOW-second `wrk -t1 -cCONNECTIONS --latency` windows through node 2: POST
#    /cluster/nodes/<node 3>/drain at DRAIN_AT s, DELETE it at UNDRAIN_AT s. Per window: req/s, p50, p99,
#    non-2xx, the box's CPU and the node JVMs' JIT share (% of the box), and the phase.
# 4. Per run: the steady windows' median p99, the worst window p99 after the drain and after the undrain, their
#    ratio to it (the goal: <= 2x), the hand-offs each caused (from GET /cluster/handoffs), non-2xx in total.
# Everything binds and talks to 127.0.0.1 only; every JVM started here is stopped on exit.
set -euo pipefail

WINDOW=${WINDOW:-2}
TOTAL=${TOTAL:-40}
DRAIN_AT=${DRAIN_AT:-10}
UNDRAIN_AT=${UNDRAIN_AT:-26}
WARMUP=${WARMUP:-30}
RUNS=${RUNS:-1}
# 1 (default): the warm-up drains and undrains node 3 once, so that the move code is compiled before the
# measurement (on the 2-core box the JIT otherwise takes 35-45% of it in the first move windows); 0: cold.
WARMUP_MOVES=${WARMUP_MOVES:-1}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=1
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
export WRK_DELAY_MS=${WRK_DELAY_MS:-0}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1
HTTP=(18480 18481 18482)
CLUSTER=(15941 15942 15943)
OUT=bench/results/moves-$(date +%Y%m%d-%H%M%S)
# shellcheck source=bench/common.sh
source bench/common.sh
require_tools moves.sh
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}"
mkdir -p "$OUT"
if ! (( DRAIN_AT < UNDRAIN_AT && UNDRAIN_AT + WINDOW <= TOTAL )); then
  die "need DRAIN_AT < UNDRAIN_AT <= TOTAL - WINDOW (got $DRAIN_AT, $UNDRAIN_AT, $TOTAL)"
fi

PIDS=()
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TARGET=http://$HOST:${HTTP[1]}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "?"; else print a[int((NR + 1) / 2)] }'; }
maxof() { sort -n | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "?" }'; }

one_run() {
  local run=$1 node3 el w phase event jit0 jit1 cb0 ct0 cb1 ct1 cpu jit t0 drain_tod="" undrain_tod="" end_tod
  start_cluster "run$run"
  [[ -z $RUN_ERROR ]] || die "run $run: $RUN_ERROR"
  node3=$(curl -sf "http://$HOST:${HTTP[2]}/cluster" | sed -n 's/.*"self" *: *"\([^"]*\)".*/\1/p')
  [[ -n $node3 ]] || die "run $run: could not read node 3's id"
  log "run $run: 3 nodes ready; warm-up ${WARMUP}s through node 2"
  if [[ $WARMUP_MOVES == 1 ]]; then
    wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$TARGET" >"$OUT/run$run-warmup.txt" 2>&1 &
    local wp=$! deadline
    sleep $((WARMUP / 3))
    curl -sf -X POST "http://$HOST:${HTTP[0]}/cluster/nodes/$node3/drain" >/dev/null || die "warm-up drain refused"
    sleep $((WARMUP / 3))
    curl -sf -X DELETE "http://$HOST:${HTTP[0]}/cluster/nodes/$node3/drain" >/dev/null || die "warm-up undrain refused"
    wait "$wp" || die "warm-up failed"
    deadline=$((SECONDS + 60))
    until curl -sf "http://$HOST:${HTTP[0]}/cluster/handoffs" | grep -q '"running" *: *\[ *\]'; do
      ((SECONDS < deadline)) || die "hand-offs still running 60 s after the warm-up"
      sleep 0.5
    done
    wrk -t1 -c"$CONNECTIONS" -d10s -s "$LUA" "$TARGET" >>"$OUT/run$run-warmup.txt" 2>&1 || die "warm-up failed"
  else
    wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$TARGET" >"$OUT/run$run-warmup.txt" 2>&1 || die "warm-up failed"
  fi
  printf 'window\trps\tp50\tp99\tnon2xx\tcpu\tjit\tphase\tevent\n' >"$OUT/run$run-windows.tsv"
  phase=steady
  t0=$(now_ms)
  for ((w = 0; w < (TOTAL + WINDOW - 1) / WINDOW; w++)); do
    el=$(($(now_ms) - t0)); event=""
    if [[ $phase == steady ]] && ((el >= DRAIN_AT * 1000)); then
      curl -sf -X POST "http://$HOST:${HTTP[0]}/cluster/nodes/$node3/drain" >"$OUT/run$run-drain.json" || die "drain refused"
      phase=drain; event="drain node3"; drain_tod=$(tod)
    elif [[ $phase == drain ]] && ((el >= UNDRAIN_AT * 1000)); then
      curl -sf -X DELETE "http://$HOST:${HTTP[0]}/cluster/nodes/$node3/drain" >"$OUT/run$run-undrain.json" || die "undrain refused"
      phase=undrain; event="undrain node3"; undrain_tod=$(tod)
    fi
    jit0=$(jit_threads "${PIDS[@]}"); read -r cb0 ct0 < <(cpu_jiffies)
    wrk -t1 -c"$CONNECTIONS" -d"${WINDOW}s" --latency -s "$LUA" "$TARGET" >"$OUT/run$run-win$w.txt" 2>&1 || die "wrk failed"
    read -r cb1 ct1 < <(cpu_jiffies); jit1=$(jit_threads "${PIDS[@]}")
    cpu=$(((cb1 - cb0) * 100 / (ct1 > ct0 ? ct1 - ct0 : 1)))
    jit=$(jit_pct "$jit0" "$jit1" $((ct1 - ct0)))
    parse_wrk "$OUT/run$run-win$w.txt"
    printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$WRK_RPS" "$WRK_P50" "$WRK_P99" "$((WRK_NON2XX + WRK_SOCKERR))" \
      "$cpu" "$jit" "$phase" "$event" >>"$OUT/run$run-windows.tsv"
  done
  end_tod=$(tod)
  cluster_died
  [[ -z $RUN_ERROR ]] || die "run $run: $RUN_ERROR"
  stop_all
  PIDS=()
  column -t -s $'\t' "$OUT/run$run-windows.tsv"
  local steady drain undrain errors moved_drain moved_undrain
  steady=$(awk -F'\t' 'NR > 1 && $8 == "steady" { print $4 }' "$OUT/run$run-windows.tsv" | median)
  drain=$(awk -F'\t' 'NR > 1 && $8 == "drain" { print $4 }' "$OUT/run$run-windows.tsv" | maxof)
  undrain=$(awk -F'\t' 'NR > 1 && $8 == "undrain" { print $4 }' "$OUT/run$run-windows.tsv" | maxof)
  errors=$(awk -F'\t' 'NR > 1 { s += $5 } END { print s + 0 }' "$OUT/run$run-windows.tsv")
  # Hand-offs the coordinator (node 1) logged after the drain, and after the undrain.
  moved_drain=$(awk -v a="$drain_tod" -v b="$undrain_tod" '/hand-off type=/ && $1 >= a && $1 < b' "$OUT/run$run-node1.log" | wc -l)
  moved_undrain=$(awk -v a="$undrain_tod" -v b="$end_tod" '/hand-off type=/ && $1 >= a && $1 < b' "$OUT/run$run-node1.log" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$steady" "$drain" "$(ratio "$drain" "$steady")" "$undrain" \
    "$(ratio "$undrain" "$steady")" "$moved_drain" "$moved_undrain" "$errors" >>"$OUT/summary.tsv"
}

printf 'run\tsteady_p99_ms\tdrain_worst_p99_ms\tdrain_ratio\tundrain_worst_p99_ms\tundrain_ratio\tdrain_moves\tundrain_moves\tnon2xx\n' \
  >"$OUT/summary.tsv"
for ((r = 1; r <= RUNS; r++)); do one_run "$r"; done
echo
column -t -s $'\t' "$OUT/summary.tsv"
log "done; results in $OUT (load average now $(loadavg))"
