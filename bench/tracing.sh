#!/usr/bin/env bash
# What OpenTelemetry tracing costs: the same load on 3 nodes with tracing off, on with every trace recorded,
# and on with 10% recorded, alternating, each on a fresh cluster. Spans go to bench/otlp_sink.py, a stand-in
# collector that accepts OTLP/HTTP and discards it. See bench/README.md.
#
#   bench/tracing.sh                     # 3 rounds, about 8 minutes
#   ROUNDS=1 STORE=replicated bench/tracing.sh
#
# Per scenario: `wrk -t1 -cCONNECTIONS --latency` increments on random counters 0..9999 through node 1 (2/3
# of them hop to another node), WARMUP then DURATION seconds. Prints each run and the medians, with the ratio
# to tracing off. Everything binds and talks to 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-20}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
STORE=${STORE:-none}
THREADS=1
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
SINK_PORT=${SINK_PORT:-14318}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1
HTTP=(18580 18581 18582)
CLUSTER=(15951 15952 15953)
OUT=bench/results/tracing-$(date +%Y%m%d-%H%M%S)
# shellcheck source=bench/common.sh
source bench/common.sh
require_tools tracing.sh
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}" "$SINK_PORT"
command -v python3 >/dev/null || die "python3 is needed for the stand-in collector"
mkdir -p "$OUT"
snapshot_jar "$OUT"

PIDS=()
SINK_PID=""
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
  exit "$rc"
}
trap cleanup EXIT INT TERM

python3 bench/otlp_sink.py "$SINK_PORT" >"$OUT/sink.log" 2>&1 &
SINK_PID=$!

scenario_args() {
  case $1 in
    off) echo "--store $STORE" ;;
    all) echo "--store $STORE --tracing-endpoint http://$HOST:$SINK_PORT --tracing-sample-ratio 1.0" ;;
    tenth) echo "--store $STORE --tracing-endpoint http://$HOST:$SINK_PORT --tracing-sample-ratio 0.1" ;;
  esac
}

declare -A RPS P99
SCENARIOS=(off all tenth)
for ((round = 1; round <= ROUNDS; round++)); do
  for s in "${SCENARIOS[@]}"; do
    prefix=r$round-$s
    read -r -a args <<<"$(scenario_args "$s")"
    start_cluster "$prefix" "${args[@]}"
    [[ -z $RUN_ERROR ]] || die "$prefix: $RUN_ERROR"
    url=http://$HOST:${HTTP[0]}
    log "$prefix: 3 nodes ready (${args[*]}); warm-up ${WARMUP}s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$url" >"$OUT/$prefix-warmup.txt" 2>&1 || die "wrk warm-up failed"
    before=$(tail -1 "$OUT/sink.log" 2>/dev/null | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$url" >"$OUT/$prefix.txt" 2>&1 || die "wrk failed"
    cluster_died
    [[ -z $RUN_ERROR ]] || die "$prefix: $RUN_ERROR"
    stop_all
    parse_wrk "$OUT/$prefix.txt"
    RPS[$prefix]=$WRK_RPS
    P99[$prefix]=$WRK_P99
    log "$prefix: ${WRK_RPS} req/s, p50 ${WRK_P50} ms, p99 ${WRK_P99} ms, non-2xx ${WRK_NON2XX}, sink bytes before the run ${before:-0}"
  done
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
printf '\n%-8s %10s %10s %12s\n' scenario "req/s" "p99 ms" "vs off" | tee "$OUT/summary.txt"
declare -A MED_RPS MED_P99
for s in "${SCENARIOS[@]}"; do
  r=() p=()
  for ((round = 1; round <= ROUNDS; round++)); do r+=("${RPS[r$round-$s]}"); p+=("${P99[r$round-$s]}"); done
  MED_RPS[$s]=$(median "${r[@]}")
  MED_P99[$s]=$(median "${p[@]}")
done
for s in "${SCENARIOS[@]}"; do
  ratio=$(awk -v a="${MED_RPS[$s]}" -v b="${MED_RPS[off]}" 'BEGIN {printf "%.2fx", a / b}')
  printf '%-8s %10s %10s %12s\n' "$s" "${MED_RPS[$s]}" "${MED_P99[$s]}" "$ratio" | tee -a "$OUT/summary.txt"
done
log "medians of $ROUNDS round(s), store $STORE; output in $OUT"
