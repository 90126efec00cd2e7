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
PG_DIR=""
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  if [[ -n $PG_DIR ]]; then
    su postgres -s /bin/sh -c "pg_ctl -D '$PG_DIR/data' -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- PostgreSQL (only if a pg scenario runs)
if [[ $SCENARIOS == *pg-* ]]; then
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null || die "initdb/pg_ctl not on the PATH (apt-get install postgresql)"
  getent passwd postgres >/dev/null || die "no 'postgres' user to run the server as (the server refuses root)"
  PG_DIR=$(mktemp -d /tmp/sticky-bench-pg.XXXXXX)
  chown postgres "$PG_DIR"
  su postgres -s /bin/sh -c "initdb -D '$PG_DIR/data' -U postgres -A trust >'$PG_DIR/initdb.log' 2>&1" || die "initdb failed: $PG_DIR/initdb.log"
  su postgres -s /bin/sh -c "pg_ctl -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w \
    -o '-c listen_addresses=$HOST -p $PG_PORT -k $PG_DIR -c fsync=on -c synchronous_commit=on' start" >/dev/null \
    || die "PostgreSQL did not start: $PG_DIR/server.log"
  log "PostgreSQL on $HOST:$PG_PORT ($(postgres --version)), fsync and synchronous_commit on"
fi
PG_URI="postgresql://postgres@$HOST:$PG_PORT/postgres"

# ---------------------------------------------------------------- one scenario
MEMBERS=$(printf "$HOST:%s," "${CLUSTER[@]}"); MEMBERS=${MEMBERS%,}
flags_of() {
  case $1 in
    none) echo "--store none" ;;
    memory) echo "--store memory" ;;
    hz-before | hz-behind) echo "--store hazelcast" ;;
    pg-before | pg-behind) echo "--store postgres --postgres-uri $PG_URI" ;;
    *) die "unknown scenario $1" ;;
  esac
}
policy_of() { [[ $1 == *-behind ]] && echo write-behind || echo before-reply; }

run_scenario() {
  local name=$1 i cfg file cluster
  cfg=$OUT/$name.yaml
  printf 'entity-types:\n  defaults:\n    writePolicy: %s\n' "$(policy_of "$name")" >"$cfg"
  cluster="sticky-bench-$name-$RANDOM$RANDOM"
  for i in 0 1 2; do
    # shellcheck disable=SC2046
    start "$name-node$((i + 1))" java -Xmx"$HEAP" -jar "$JAR" --config "$cfg" $(flags_of "$name") \
      --http-host "$HOST" --http-port "${HTTP[$i]}" --host "$HOST" --cluster-name "$cluster" \
      --cluster-port "${CLUSTER[$i]}" --members "$MEMBERS"
    local deadline=$((SECONDS + READY_TIMEOUT))
    until http_ready "${HTTP[$i]}"; do
      kill -0 "$LAST_PID" 2>/dev/null || die "$name node $((i + 1)) exited; log: $OUT/$name-node$((i + 1)).log"
      ((SECONDS < deadline)) || die "$name node $((i + 1)) not ready after ${READY_TIMEOUT}s"
      sleep 0.5
    done
  done
  log "$name: 3 nodes ready ($(flags_of "$name" | sed "s|$PG_URI|<pg>|"), writePolicy $(policy_of "$name")); warm-up ${WARMUP}s"
  wrk -t$THREADS -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "http://$HOST:${HTTP[0]}" >"$OUT/$name-warmup.txt" 2>&1
  file=$OUT/$name.txt
  wrk -t$THREADS -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "http://$HOST:${HTTP[0]}" >"$file" 2>&1
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$file")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$file")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$file")")
  non2xx=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2; exit}' "$file")
  printf '%-10s %-10s %-13s %8s %8s %8s %7s\n' "$name" "$(flags_of "$name" | awk '{print $2}')" "$(policy_of "$name")" \
    "$rps" "$p50" "$p99" "${non2xx:-0}" | tee -a "$OUT/summary.txt"
  stop_all
}

printf '%-10s %-10s %-13s %8s %8s %8s %7s\n' scenario store policy "req/s" "p50 ms" "p99 ms" non2xx | tee "$OUT/summary.txt"
for s in $SCENARIOS; do run_scenario "$s"; done
log "done; summary in $OUT/summary.txt (load average now $(loadavg))"
