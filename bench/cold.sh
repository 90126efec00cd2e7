#!/usr/bin/env bash
# Cold activation from a state store: how fast 3 nodes bring N passivated counter entities back, one increment each.
#
#   mvn -B package -DskipTests && bench/cold.sh            # the node's default store, N=100000
#   STORE=postgres bench/cold.sh                           # a throwaway PostgreSQL, as bench/store.sh starts it
#   N=5000 STORE=hazelcast bench/cold.sh                   # smoke run, about a minute
#
# 1. 3 fat-jar nodes with --passivate-after $PASSIVATE_AFTER and the store STORE: default (no --store flag: the
#    node's default), hazelcast, postgres (fsync and synchronous_commit on), replicated, memory or none.
# 2. Write phase: one increment to each counter id 0..N-1 through node 1 (wrk -t1 -cCONNECTIONS with
#    bench/wrk-walk.lua: every id exactly once, then wrk stops).
# 3. Idle: wait until GET /cluster on node 1 reports 0 active entities on all 3 nodes, twice in a row (at most
#    IDLE_TIMEOUT s).
# 4. Cold phase: one increment to each id again, the same way. Each activates its entity, which first reads its
#    state from the store. activations/s = N / wrk's elapsed time.
# With JIT_WARMUP=1 (the default), steps 2-4 first run once on other ids (warm-0 ..), so that the measured
# phases find the JIT compiler done with these paths: on 2 cores it otherwise takes 43-56% of the CPU during the
# first cold phase. Both cycles are reported; JIT_WARMUP=0 measures fresh JVMs only (a cluster just restarted).
# Reports both phases' rate, p50/p99/max, non-2xx and unanswered requests, how many cold replies carried the
# restored state (value 2), and the nodes' blocked-thread warnings. Results in bench/results/cold-<stamp>/.
set -euo pipefail

N=${N:-100000}
STORE=${STORE:-default}
CONNECTIONS=${CONNECTIONS:-64}
PASSIVATE_AFTER=${PASSIVATE_AFTER:-2s}
IDLE_TIMEOUT=${IDLE_TIMEOUT:-300}
WALK_TIMEOUT=${WALK_TIMEOUT:-600}
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
JIT_WARMUP=${JIT_WARMUP:-1}

for v in N CONNECTIONS IDLE_TIMEOUT WALK_TIMEOUT READY_TIMEOUT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
    echo "cold.sh: $v must be a positive whole number, got '${!v}'" >&2; exit 2
  fi
done
[[ $JIT_WARMUP =~ ^[01]$ ]] || { echo "cold.sh: JIT_WARMUP must be 0 or 1, got '$JIT_WARMUP'" >&2; exit 2; }
case $STORE in
  default | hazelcast | postgres | replicated | memory | none) ;;
  *) echo "cold.sh: STORE must be default, hazelcast, postgres, replicated, memory or none, got '$STORE'" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
WALK=bench/wrk-walk.lua
HOST=127.0.0.1
HTTP=(18480 18481 18482)
CLUSTER=(16201 16202 16203)
PG_PORT=16433
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/results/cold-$STAMP
# shellcheck source=bench/common.sh
source bench/common.sh
require_tools cold.sh
command -v jq >/dev/null || apt_install jq
if [[ $STORE == postgres ]]; then require_pg; fi
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}" "$PG_PORT"
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/sticky-cold.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  stop_pg
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

snapshot_jar "$WORK"
case $STORE in
  default) STORE_FLAGS=() ;;
  postgres) start_pg "$PG_PORT"; STORE_FLAGS=(--store postgres --postgres-uri "$PG_URI") ;;
  *) STORE_FLAGS=(--store "$STORE") ;;
esac
{
  echo "stamp: $STAMP"
  echo "settings: N=$N STORE=$STORE CONNECTIONS=$CONNECTIONS PASSIVATE_AFTER=$PASSIVATE_AFTER HEAP=$HEAP"
  echo "jar: target/sticky.jar of $(stat -c '%y, %s bytes' target/sticky.jar) (copied to $JAR)"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "load average at start: $(loadavg) ($(nproc) cores)"
} | tee "$OUT/env.txt"

start_cluster sticky "${STORE_FLAGS[@]}" --passivate-after "$PASSIVATE_AFTER"
[[ -z $RUN_ERROR ]] || die "STORE=$STORE: $RUN_ERROR"
STORES=$(sed -n 's/.*types and stores {\([^}]*\)}.*/\1/p' "$OUT/sticky-node1.log" | head -1)
log "3 nodes ready (types and stores: ${STORES:-?}; passivate-after $PASSIVATE_AFTER)"

# walk PHASE [PREFIX]: every id PREFIX0..PREFIX(N-1) once through node 1 ($OUT/wrk-PHASE.txt); sets W_LINE
# (wrk-walk.lua's WALK line) and FROM/TO (HH:MM:SS.mmm around it).
walk() {
  local phase=$1 prefix=${2:-} file=$OUT/wrk-$1.txt
  FROM=$(date +%H:%M:%S.%3N)
  wrk -t1 -c"$CONNECTIONS" -d"${WALK_TIMEOUT}s" --timeout 60s --latency -s "$WALK" "http://$HOST:${HTTP[0]}" -- "$N" 1 "$prefix" \
    >"$file" 2>&1 || die "wrk failed in the $phase phase; see $file"
  TO=$(date +%H:%M:%S.%3N)
  W_LINE=$(grep '^WALK' "$file") || die "no WALK line in $file"
  local answered
  answered=$(field answered "$W_LINE")
  ((answered == N)) || log "WARNING: $phase phase: $((N - answered)) of $N ids got no response within ${WALK_TIMEOUT}s"
  log "$phase: $(field ids_per_s "$W_LINE") ids/s over $(field duration_s "$W_LINE") s, p50 $(field p50_ms "$W_LINE") ms," \
    "p99 $(field p99_ms "$W_LINE") ms, non-2xx $(field non2xx "$W_LINE"), values $(field values "$W_LINE")"
}

# idle AFTER: every entity passivates PASSIVATE_AFTER after its last message (a bounded number per check); waits
# for 0 ($OUT/idle-AFTER.tsv) and sets IDLE_S.
idle() {
  local tsv=$OUT/idle-$1.tsv
  log "waiting until no entity is active (at most ${IDLE_TIMEOUT}s)"
  printf 'seconds\tactive_entities\treachable_nodes\n' >"$tsv"
  t0=$(date +%s%3N)
  zeros=0
  last_log=0
  while ((zeros < 2)); do
    body=$(curl -sf --max-time 5 "http://$HOST:${HTTP[0]}/cluster" || true)
    active=$(jq -r '[.nodes[].activeEntities] | add // "?"' <<<"$body" 2>/dev/null || echo "?")
    reachable=$(jq -r '[.nodes[] | select(.reachable)] | length' <<<"$body" 2>/dev/null || echo 0)
    elapsed_ms=$(($(date +%s%3N) - t0))
    printf '%s\t%s\t%s\n' "$(awk -v ms="$elapsed_ms" 'BEGIN {printf "%.1f", ms / 1000}')" "$active" "$reachable" >>"$tsv"
    if [[ $active == 0 && $reachable == 3 ]]; then
      zeros=$((zeros + 1))
      if ((zeros == 1)); then IDLE_MS=$elapsed_ms; fi
    else
      zeros=0
    fi
    ((elapsed_ms < IDLE_TIMEOUT * 1000)) || die "still ${active} active entities (${reachable} nodes reachable) after ${IDLE_TIMEOUT}s; see $tsv"
    if ((elapsed_ms - last_log >= 10000)); then
      log "  ${active} active entities"
      last_log=$elapsed_ms
    fi
    ((zeros == 2)) || sleep 1
  done
  IDLE_S=$(awk -v ms="$IDLE_MS" 'BEGIN {printf "%.1f", ms / 1000}')
  log "0 active entities ${IDLE_S}s after the $1 phase"
}

if ((JIT_WARMUP)); then
  log "JIT warm-up cycle on ids warm-0 .. warm-$((N - 1)): write, idle, cold"
  walk warmup-write warm-
  WARM_WRITE_LINE=$W_LINE
  idle warmup-write
  walk warmup-cold warm-
  WARM_COLD_LINE=$W_LINE
  idle warmup-cold
fi

log "write phase: $N ids through node 1, wrk -t1 -c$CONNECTIONS"
walk write
WRITE_LINE=$W_LINE
idle write

log "cold phase: $N ids through node 1, each activated from the store"
walk cold
COLD_LINE=$W_LINE
COLD_FROM=$FROM
COLD_TO=$TO
RUN_ERROR=""
cluster_died
[[ -z $RUN_ERROR ]] || log "WARNING: $RUN_ERROR"
LOAD_END=$(loadavg)
stop_all

# ---------------------------------------------------------------- report
BLOCKED="" BLOCKED_ALL=0 BLOCKED_COLD=0
for i in 1 2 3; do
  all=$(count_blocked "$OUT/sticky-node$i.log")
  cold=$(count_blocked "$OUT/sticky-node$i.log" "$COLD_FROM" "$COLD_TO")
  BLOCKED+="node$i $all ($cold), "
  BLOCKED_ALL=$((BLOCKED_ALL + all))
  BLOCKED_COLD=$((BLOCKED_COLD + cold))
done
restored() { # LINE: 2xx replies with value 2
  tr ',' '\n' <<<"$(field values "$1")" | awk -F: '$1 == 2 {print $2; f = 1} END {if (!f) print 0}'
}
row() { # PHASE LINE
  local l=$2
  printf '%-12s %10s %10s %8s %8s %8s %9s %8s %11s %10s  %s\n' "$1" \
    "$(printf '%.0f' "$(field ids_per_s "$l")")" "$(field duration_s "$l")" "$(field p50_ms "$l")" "$(field p99_ms "$l")" \
    "$(field max_ms "$l")" "$(field non2xx "$l")" "$(($(field err_connect "$l") + $(field err_read "$l") + $(field err_write "$l") + $(field err_timeout "$l")))" \
    "$((N - $(field answered "$l")))" "$(restored "$l")" "$(field statuses "$l")"
}
{
  echo "cold activation: STORE=$STORE (types and stores: ${STORES:-?}), N=$N ids, 3 nodes, wrk -t1 -c$CONNECTIONS to node 1, passivate-after $PASSIVATE_AFTER"
  echo
  printf '%-12s %10s %10s %8s %8s %8s %9s %8s %11s %10s  %s\n' phase "ids/s" "elapsed s" "p50 ms" "p99 ms" "max ms" "non-2xx" \
    "sock err" "unanswered" "value 2" statuses
  if ((JIT_WARMUP)); then
    row warmup-write "$WARM_WRITE_LINE"
    row warmup-cold "$WARM_COLD_LINE"
  fi
  row write "$WRITE_LINE"
  row cold "$COLD_LINE"
  echo
  echo "activations/s (cold phase, N / elapsed): $(printf '%.0f' "$(field ids_per_s "$COLD_LINE")")"
  echo "all $N entities passivated ${IDLE_S}s after the write phase"
  echo "blocked-thread warnings, whole run (cold phase): ${BLOCKED%, }"
  echo "load average at the end: $LOAD_END"
} | tee "$OUT/summary.txt"
printf 'stamp\tstore\tn\twrite_ids_per_s\tidle_s\tcold_ids_per_s\tcold_s\tp50_ms\tp99_ms\tmax_ms\tnon2xx\tsocket_errors\tunanswered\trestored\tblocked_all\tblocked_cold\n' >"$OUT/summary.tsv"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$STAMP" "$STORE" "$N" "$(field ids_per_s "$WRITE_LINE")" \
  "$IDLE_S" "$(field ids_per_s "$COLD_LINE")" "$(field duration_s "$COLD_LINE")" "$(field p50_ms "$COLD_LINE")" \
  "$(field p99_ms "$COLD_LINE")" "$(field max_ms "$COLD_LINE")" "$(field non2xx "$COLD_LINE")" \
  "$(($(field err_connect "$COLD_LINE") + $(field err_read "$COLD_LINE") + $(field err_write "$COLD_LINE") + $(field err_timeout "$COLD_LINE")))" \
  "$((N - $(field answered "$COLD_LINE")))" "$(restored "$COLD_LINE")" "$BLOCKED_ALL" "$BLOCKED_COLD" >>"$OUT/summary.tsv"
log "done; results in $OUT"
