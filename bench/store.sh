#!/usr/bin/env bash
# State stores and write policies vs. no store: increments/s and latency through 3 fat-jar nodes on loopback.
#
#   mvn -B package -DskipTests && bench/store.sh
#   SCENARIOS="none hz-before pg-before" DURATION=30 bench/store.sh
#
# Scenarios (all counter entities, wrk -t1 -cCONNECTIONS POSTing increments over 10k ids to node 1):
#   none        --store none            state only in the entity (the PR-2 baseline)
#   memory      --store memory          per-node heap store, before-reply (cost of the persistence path alone)
#   hz-before   --store hazelcast       Hazelcast map with 1 sync backup, write before reply (the default)
#   hz-behind   --store hazelcast       ... write-behind, 1 s window
#   pg-before   --store postgres        PostgreSQL, write before reply
#   pg-behind   --store postgres        ... write-behind, 1 s window
#   repl-before --store replicated      the replicated store, write before reply (if the jar has it)
#   repl-behind --store replicated      ... write-behind, 1 s window
# PostgreSQL: a throwaway server (initdb/pg_ctl from the PATH, run as the `postgres` user, since the server
# refuses root) in a temp dir on 127.0.0.1:$PG_PORT, removed on exit. Each scenario gets a fresh cluster, a
# WARMUP-second wrk warm-up and a measured DURATION-second run; figures go to bench/results/<stamp>/.
set -euo pipefail

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=1
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
SCENARIOS=${SCENARIOS:-"none memory hz-before hz-behind pg-before pg-behind"}
PG_PORT=${PG_PORT:-15432}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1
HTTP=(18080 18081 18082)
CLUSTER=(15801 15802 15803)
OUT=bench/results/store-$(date +%Y%m%d-%H%M%S)
# shellcheck source=bench/common.sh
source bench/common.sh
require_tools store.sh
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}" "$PG_PORT"
mkdir -p "$OUT"

PIDS=()
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  stop_pg
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PostgreSQL only if a pg scenario runs
if [[ $SCENARIOS == *pg-* ]]; then
  require_pg
  start_pg "$PG_PORT"
fi

# One scenario: a fresh cluster, warm-up, measured run (sticky_scenario in bench/common.sh), one summary row.
run_scenario() {
  local name=$1
  sticky_scenario "$name" "$name"
  [[ -z $RUN_ERROR ]] || die "$name: $RUN_ERROR"
  printf '%-10s %-10s %-13s %8s %8s %8s %7s\n' "$name" "$(scenario_store "$name")" "$(scenario_policy "$name")" \
    "$WRK_RPS" "$WRK_P50" "$WRK_P99" "$WRK_NON2XX" | tee -a "$OUT/summary.txt"
}

printf '%-10s %-10s %-13s %8s %8s %8s %7s\n' scenario store policy "req/s" "p50 ms" "p99 ms" non2xx | tee "$OUT/summary.txt"
for s in $SCENARIOS; do run_scenario "$s"; done
log "done; summary in $OUT/summary.txt (load average now $(loadavg))"
