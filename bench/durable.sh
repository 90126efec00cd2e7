#!/usr/bin/env bash
# Durable increments: Sticky's store scenarios against stateless anchors (one Vert.x app in front of PostgreSQL
# or Redis), alternated in one sitting. Increments/s and p99 of every run; medians in one table and one plot.
#
#   mvn -B package -DskipTests && bench/durable.sh             # about 35 minutes with the defaults
#   ROUNDS=1 WARMUP=5 DURATION=5 SCENARIOS="none hz-before" bench/durable.sh      # smoke run, about 4 minutes
#
# Anchors (ANCHORS, all three by default): the stateless counter app of $ANCHOR_DIR, copied to a temp dir, built
# there (mvn -q -B -DskipTests package) and run by its own run.sh: a fresh store, wrk -t1 -cCONNECTIONS POSTing
# increments over 10k ids, WARMUP s of POST then WARMUP s of GET warm-up, a DURATION-second measured POST run,
# then run.sh's exact check of the counters (CHECK column).
#   pg-upsert        run.sh atomic: one INSERT .. ON CONFLICT DO UPDATE per increment; PostgreSQL fsync=on,
#                    synchronous_commit=on (start-pg.sh)
#   redis-aof        run.sh redis: INCRBY; Redis appendonly yes, appendfsync always (start-redis.sh --aof always)
#   redis-nopersist  run.sh redis: INCRBY; Redis without persistence (start-redis.sh, then CONFIG SET save "")
# Sticky scenarios (SCENARIOS, default "none hz-before hz-behind pg-before repl-before repl-behind"; names as in
# bench/store.sh, repl-* use --store replicated): a fresh 3-node cluster, wrk -t1 -cCONNECTIONS POSTing
# increments over 10k ids to node 1, a WARMUP-second warm-up, a DURATION-second measured run; counters not
# checked. A scenario whose store the jar does not have fails on its own (FAILED in the table); the rest runs.
# Round r runs every anchor, then every scenario, once; then round r+1 (ROUNDS rounds).
# Everything goes to bench/results/durable-<stamp>/: runs.tsv (every run), summary.txt (the table), durable.svg
# (also copied to bench/durable-latest.svg), and per run its wrk output and logs.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-30}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=1
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
SCENARIOS=${SCENARIOS-"none hz-before hz-behind pg-before repl-before repl-behind"}
ANCHORS=${ANCHORS-"pg-upsert redis-aof redis-nopersist"}
ANCHOR_DIR=${ANCHOR_DIR:-/work/shared/anchors/stateless}

for v in ROUNDS WARMUP DURATION CONNECTIONS READY_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "durable.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((ROUNDS >= 1 && DURATION >= 1)) || { echo "durable.sh: ROUNDS and DURATION must be at least 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1
# Sticky nodes, their PostgreSQL, and the anchors' app, PostgreSQL and Redis: none of them is another bench
# script's default, so this can run next to them.
HTTP=(18380 18381 18382)
CLUSTER=(16101 16102 16103)
PG_PORT=16432
APP_PORT=18390
ANCHOR_PG_PORT=16532
ANCHOR_REDIS_PORT=16579
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$ROOT/bench/results/durable-$STAMP
# shellcheck source=bench/common.sh
source bench/common.sh

# ---------------------------------------------------------------- prerequisites
require_tools durable.sh
command -v python3 >/dev/null || die "python3 not found (it writes the table and the plot)"
if [[ -n $ANCHORS ]]; then
  [[ -f $ANCHOR_DIR/run.sh ]] || die "no anchor harness at $ANCHOR_DIR (set ANCHOR_DIR, or ANCHORS= to run without anchors)"
  command -v mvn >/dev/null || die "mvn not found (it builds the anchor app)"
  command -v jq >/dev/null || apt_install jq
fi
if [[ $ANCHORS == *pg-* ]]; then
  command -v psql >/dev/null || apt_install postgresql-client
fi
if [[ $ANCHORS == *pg-* || $SCENARIOS == *pg-* ]]; then require_pg; fi
if [[ $ANCHORS == *redis* ]] && ! command -v redis-server >/dev/null; then apt_install redis-server; fi
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}" "$PG_PORT" "$APP_PORT" "$ANCHOR_PG_PORT" "$ANCHOR_REDIS_PORT"
mkdir -p "$OUT"

# The jar and the anchor harness are copied to WORK, so a rebuild of either during the run changes nothing.
# The anchors' stores keep their data under WORK/tmp, which the postgres user must be able to reach.
WORK=$(mktemp -d /tmp/sticky-durable.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/tmp"
harness() {
  env BENCH_TMP="$WORK/tmp" PG_BIN="${PG_BIN:-/usr/local/bin}" PGPORT="$ANCHOR_PG_PORT" REDIS_PORT="$ANCHOR_REDIS_PORT" \
    REDIS_URL="redis://127.0.0.1:$ANCHOR_REDIS_PORT" "$@"
}
# last_error FILE: its last line that is not part of a stack trace
last_error() { grep -v -E '^[[:space:]]|^Caused by' "$1" | tail -1; }

PIDS=()
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  if [[ -f $WORK/tmp/app.pid ]]; then kill "$(cat "$WORK/tmp/app.pid")" 2>/dev/null || true; fi
  if [[ -d $WORK/stateless ]]; then
    (cd "$WORK/stateless" && harness ./stop-pg.sh --clean && harness ./stop-redis.sh --clean) >/dev/null 2>&1 || true
  fi
  stop_pg
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

snapshot_jar "$WORK"
if [[ -n $ANCHORS ]]; then
  cp -r "$ANCHOR_DIR" "$WORK/stateless"
  chmod -R u+w "$WORK/stateless"
  rm -rf "$WORK/stateless/target" "$WORK/stateless/results"
  log "building the anchor app in $WORK/stateless"
  (cd "$WORK/stateless" && mvn -q -B -DskipTests package) >"$OUT/anchor-build.log" 2>&1 \
    || die "the anchor app did not build; see $OUT/anchor-build.log"
fi
if [[ $SCENARIOS == *pg-* ]]; then start_pg "$PG_PORT"; fi
{
  echo "stamp: $STAMP"
  echo "settings: ROUNDS=$ROUNDS WARMUP=$WARMUP DURATION=$DURATION CONNECTIONS=$CONNECTIONS HEAP=$HEAP"
  echo "anchors: $ANCHORS (from $ANCHOR_DIR)"
  echo "scenarios: $SCENARIOS"
  echo "jar: target/sticky.jar of $(stat -c '%y, %s bytes' target/sticky.jar) (copied to $JAR)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "load average at start: $(loadavg) ($(nproc) cores)"
} | tee "$OUT/env.txt"

# ---------------------------------------------------------------- one anchor run
# run_anchor PREFIX ANCHOR: a fresh store, run.sh, the store stopped again. Sets the WRK_* figures, CHECK and
# DETAIL (the store's settings as run.sh reports them), or RUN_ERROR.
run_anchor() {
  local prefix=$1 name=$2 mode file=$OUT/$1.txt store=$OUT/$1-store.txt res warm
  RUN_ERROR="" CHECK="-" DETAIL=""
  case $name in
    pg-upsert) mode=atomic ;;
    redis-aof | redis-nopersist) mode=redis ;;
    *) RUN_ERROR="unknown anchor $name (pg-upsert, redis-aof or redis-nopersist)"; return 0 ;;
  esac
  if ! (
    cd "$WORK/stateless"
    case $name in
      pg-upsert) harness ./start-pg.sh ;;
      redis-aof) harness ./start-redis.sh --aof always ;;
      redis-nopersist)
        harness ./start-redis.sh && redis-cli -p "$ANCHOR_REDIS_PORT" CONFIG SET save "" \
          && echo "save='$(redis-cli -p "$ANCHOR_REDIS_PORT" --raw CONFIG GET save | sed -n 2p)'"
        ;;
    esac
  ) >"$store" 2>&1; then
    RUN_ERROR="the store did not start: $(last_error "$store")"
  else
    warm=0
    ((WARMUP == 0)) || warm=${WARMUP}s
    log "$prefix: run.sh $mode (warm-up ${WARMUP}s POST + ${WARMUP}s GET, measured ${DURATION}s POST)"
    if ! (cd "$WORK/stateless" && harness env APP_PORT="$APP_PORT" THREADS=1 CONNS="$CONNECTIONS" IDS=10000 \
      DURATION="${DURATION}s" WARMUP="$warm" SKIP_BUILD=1 SKIP_GET=1 LABEL="durable $prefix" RESULTS_DIR="$OUT/anchors" \
      ./run.sh "$mode") >"$file" 2>&1; then
      RUN_ERROR="run.sh $mode failed: $(last_error "$file") (see $file)"
    fi
  fi
  (
    cd "$WORK/stateless"
    if [[ $mode == atomic ]]; then harness ./stop-pg.sh --clean; else harness ./stop-redis.sh --clean; fi
  ) >>"$store" 2>&1 || log "WARNING: $prefix: stopping the store failed; see $store"
  [[ -z $RUN_ERROR ]] || return 0
  res=$(grep '^RESULT' "$file" || true)
  if [[ -z $res ]]; then
    RUN_ERROR="no RESULT line in $file"
    return 0
  fi
  WRK_RPS=$(printf '%.0f' "$(field rps "$res")")
  WRK_P50=$(field p50_ms "$res")
  WRK_P99=$(field p99_ms "$res")
  WRK_NON2XX=$(field non2xx "$res")
  WRK_SOCKERR=$(($(field err_connect "$res") + $(field err_read "$res") + $(field err_write "$res") + $(field err_timeout "$res")))
  CHECK=$(sed -n 's/^CHECK .* -> //p' "$file")
  DETAIL=$(sed -n 's/^== mode=[a-z]* store: //p' "$file")
  if [[ $name == redis-nopersist ]]; then DETAIL+=" $(grep "^save=" "$store")"; fi
}

# ---------------------------------------------------------------- the sitting
TSV=$OUT/runs.tsv
printf 'round\tsystem\tkind\trps\tp50_ms\tp99_ms\tnon2xx\tsocket_errors\tcheck\tstatus\tdetail\n' >"$TSV"
record() { # ROUND SYSTEM KIND
  local status=ok detail=$DETAIL
  if [[ -n $RUN_ERROR ]]; then
    status=failed detail=$RUN_ERROR
    WRK_RPS="" WRK_P50="" WRK_P99="" WRK_NON2XX="" WRK_SOCKERR=""
    log "$1 $2: FAILED: $RUN_ERROR"
  else
    log "$1 $2: $WRK_RPS inc/s, p50 $WRK_P50 ms, p99 $WRK_P99 ms, non-2xx $WRK_NON2XX, socket errors $WRK_SOCKERR, check $CHECK"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$WRK_RPS" "$WRK_P50" "$WRK_P99" "$WRK_NON2XX" \
    "$WRK_SOCKERR" "$CHECK" "$status" "${detail//$'\t'/ }" >>"$TSV"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "---- round $round of $ROUNDS (load average $(loadavg))"
  for a in $ANCHORS; do
    run_anchor "r$round-$a" "$a"
    record "$round" "$a" anchor
  done
  for s in $SCENARIOS; do
    sticky_scenario "r$round-$s" "$s"
    CHECK="-" DETAIL="$(scenario_flags "$s" 2>/dev/null | sed "s|--postgres-uri .*||") $(scenario_policy "$s")"
    record "$round" "$s" sticky
  done
done

python3 bench/durable_report.py "$OUT" "ROUNDS=$ROUNDS WARMUP=${WARMUP}s DURATION=${DURATION}s CONNECTIONS=$CONNECTIONS, $STAMP"
cp "$OUT/durable.svg" bench/durable-latest.svg
log "done; table in $OUT/summary.txt, every run in $OUT/runs.tsv, plot in $OUT/durable.svg and bench/durable-latest.svg (load average now $(loadavg))"
