#!/usr/bin/env bash
# Sticky vs. "ceiling" HTTP benchmark on loopback. See bench/README.md.
#
#   bench/run.sh                                  # defaults: DURATION=20 WARMUP=30 CONNECTIONS=64
#   DURATION=30 WARMUP=40 CONNECTIONS=128 bench/run.sh
#
# 1. Sticky: 3 nodes (java -jar target/sticky.jar), HTTP 18080-18082, Hazelcast 15801-15803; wrk hits node 1,
#    so ~2/3 of the counter ids are hosted elsewhere and cross the event bus.
# 2. Ceiling: bench/Ceiling.java, 2 clustered JVMs (echo + HTTP server), HTTP 18090, Hazelcast 15811-15812;
#    every request crosses to the other JVM exactly once.
# Each gets a WARMUP-second wrk warm-up, then a measured `wrk -t1 -cCONNECTIONS -dDURATION --latency`.
# Everything binds and talks to 127.0.0.1 only; every JVM started here is killed on exit.
set -euo pipefail

DURATION=${DURATION:-20}
# 30 s, not 10: on this 2-core box Sticky needs ~25 s of load (10k entity activations, then C2 JIT competing
# with the load for the cores) and the ceiling ~15 s to reach steady throughput; with a 10 s warm-up the
# ramp falls inside the measured window and the figures come out 30-40% low.
WARMUP=${WARMUP:-30}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}

for v in DURATION WARMUP CONNECTIONS THREADS READY_TIMEOUT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} < 1 )); then
    echo "run.sh: $v must be a positive integer, got '${!v}'" >&2; exit 2
  fi
done
if (( DURATION > 600 || WARMUP > 600 )); then
  echo "run.sh: DURATION and WARMUP are capped at 600 s" >&2; exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
LUA=bench/wrk-counter.lua
HOST=127.0.0.1

STICKY_HTTP=(18080 18081 18082)
STICKY_CLUSTER=(15801 15802 15803)
CEIL_HTTP=18090
CEIL_CLUSTER=(15811 15812)

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/results/$STAMP

# shellcheck source=bench/common.sh
source bench/common.sh

# ---------------------------------------------------------------- prerequisites
require_tools run.sh

require_free_ports "${STICKY_HTTP[@]}" "$CEIL_HTTP" "${STICKY_CLUSTER[@]}" "${CEIL_CLUSTER[@]}"

mkdir -p "$OUT"

# ---------------------------------------------------------------- process handling
PIDS=()
WRK_PID=""
cleanup() {
  local rc=$?
  if [[ -n $WRK_PID ]]; then kill -INT "$WRK_PID" 2>/dev/null || true; fi
  if ((${#PIDS[@]})); then
    ((rc == 0)) || log "exiting with status $rc: stopping ${#PIDS[@]} JVM(s)"
    stop_all
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# log_issues STOP_TIME FILES...: "file: N WARN/ERROR while running, M at shutdown" for logback-formatted logs.
log_issues() {
  local stop=$1 f; shift
  for f in "$@"; do
    awk -v stop="$stop" -v name="$(basename "$f" .log)" '
      /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] (WARN|ERROR) / { if ($1 < stop) run++; else down++ }
      END { printf "%s %d/%d  ", name, run, down }' "$f"
  done
}

# JVM flags for the source-launched Ceiling (java -jar gets the same from the jar manifest).
JPMS_FLAGS=(--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED)

# start NAME CMD...: starts a process with its output in $OUT/NAME.log and records its pid.
LAST_PID=""

# wait_for NAME PID CHECK...: polls CHECK until it succeeds, the process dies, or READY_TIMEOUT passes.
wait_for() {
  local name=$1 pid=$2; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$OUT/$name.log" >&2 || true
      die "$name (pid $pid) exited before it was ready; log: $OUT/$name.log"
    fi
    ((SECONDS < deadline)) || { tail -n 30 "$OUT/$name.log" >&2; die "$name not ready after ${READY_TIMEOUT}s"; }
    sleep 0.5
  done
  log "$name ready (pid $pid; $*)"
}
log_ready() { grep -q '^READY' "$OUT/$1.log"; }
post_ok() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Content-Type: application/json' \
  -d '{"op":"increment"}' "http://$HOST:$1/entities/counter/probe-$2") == 200 ]]; }

# ---------------------------------------------------------------- wrk and its output
# run_wrk LABEL PORT SECONDS COUNT_STATUS: runs wrk, saves its output to $OUT/wrk-LABEL.txt.
run_wrk() {
  local label=$1 port=$2 secs=$3 count=$4
  local file=$OUT/wrk-$label.txt
  log "wrk $label: -t$THREADS -c$CONNECTIONS -d${secs}s against $HOST:$port (load avg $(loadavg))"
  # wrk itself stops after -d; the outer timeout only guards against a hung wrk.
  # In the background plus `wait`, so a SIGTERM/SIGINT to this script is handled at once, not after wrk.
  WRK_COUNT_STATUS=$count timeout --signal=INT --kill-after=10 $((secs + 30)) \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency -s "$LUA" "http://$HOST:$port" >"$file" 2>&1 &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  ((rc == 0)) || log "wrk $label exited with status $rc (see $file)"
}

# CPU accounting for a measured run: per started JVM (utime+stime) and for the whole machine (/proc/stat).
HZ=$(getconf CLK_TCK)
jvm_ticks() { local pid; for pid in "${PIDS[@]}"; do
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0; done; }
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
# cpu_report NAMES...: sets CPU_LINE ("name x% rss M MB, ..., machine busy y%"; % of one core, since cpu_mark)
# and CPU_JVM_TICKS (CPU ticks of all these JVMs together).
cpu_mark() { CPU0=($(jvm_ticks)); MACH0=($(machine_ticks)); T0=$(date +%s.%N); }
cpu_report() {
  local t1 i=0 name cpu1 mach1 secs d rss
  cpu1=($(jvm_ticks)); mach1=($(machine_ticks)); t1=$(date +%s.%N)
  secs=$(awk -v a="$T0" -v b="$t1" 'BEGIN { print b - a }')
  CPU_LINE=""; CPU_JVM_TICKS=0
  for name in "$@"; do
    d=$((cpu1[i] - CPU0[i])); CPU_JVM_TICKS=$((CPU_JVM_TICKS + d))
    rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/${PIDS[$i]}/status" 2>/dev/null || echo "?")
    CPU_LINE+=$(awk -v d="$d" -v hz="$HZ" -v s="$secs" -v n="$name" -v r="$rss" \
      'BEGIN { printf "%s %.0f%% (RSS %s MB), ", n, 100 * d / hz / s, r }')
    i=$((i + 1))
  done
  CPU_LINE+=$(awk -v b=$((mach1[0] - MACH0[0])) -v t=$((mach1[1] - MACH0[1])) -v c="$(nproc)" \
    'BEGIN { printf "machine busy %.0f%% of %d%%", (t > 0 ? 100 * c * b / t : 0), 100 * c }')
}
# us_per_req TICKS REQUESTS: JVM CPU microseconds per request
us_per_req() { awk -v t="$1" -v hz="$HZ" -v r="$2" 'BEGIN { if (r + 0 > 0) printf "%.0f", t / hz * 1e6 / r; else print "?" }'; }

# to_ms "1.23ms" -> 1.23

# parse FILE -> "rps p50 p90 p99 requests non2xx sockerr"
parse() {
  local f=$1 rps p50 p90 p99 reqs non2xx sockerr
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$f")")
  p90=$(to_ms "$(awk '$1 == "90%" {print $2; exit}' "$f")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$f")")
  reqs=$(awk '/requests in/ {print $1; exit}' "$f")
  non2xx=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2; exit}' "$f")
  sockerr=$(awk '/Socket errors:/ {s = $0; sub(/.*Socket errors: /, "", s); gsub(/ /, "", s); print s; exit}' "$f")
  echo "${rps:-?} ${p50:-?} ${p90:-?} ${p99:-?} ${reqs:-?} ${non2xx:-0} ${sockerr:-none}"
}

# status breakdown and hosting nodes recorded by the lua script (count mode)
breakdown() {
  local f=$1
  grep -E '^(STATUS|NODE|SAMPLE) ' "$f" | sort || true
}

LOAD_START=$(loadavg)
CLUSTER_NAME="sticky-bench-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
log "results in $OUT; cluster name $CLUSTER_NAME; load average at start: $LOAD_START"
{
  echo "date: $(date -Iseconds)"; echo "host: $(uname -srm), $(nproc) cores"; echo "java: $(java -version 2>&1 | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"; echo "jar: $(ls -l --time-style=+%F.%T $JAR | awk '{print $6, $5}')"
  echo "DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS THREADS=$THREADS HEAP=$HEAP"
  echo "cluster name: $CLUSTER_NAME"; echo "load average at start: $LOAD_START"
} >"$OUT/env.txt"

# ---------------------------------------------------------------- 1. Sticky, 3 nodes
MEMBERS=$(printf "$HOST:%s," "${STICKY_CLUSTER[@]}"); MEMBERS=${MEMBERS%,}
sticky_node() {
  local i=$1
  start "sticky-node$((i + 1))" java -Xmx"$HEAP" -jar "$JAR" --http-host "$HOST" --http-port "${STICKY_HTTP[$i]}" \
    --host "$HOST" --cluster-name "$CLUSTER_NAME" --cluster-port "${STICKY_CLUSTER[$i]}" --members "$MEMBERS"
}
# Node 1 first, so it is the master; then 2 and 3 together.
sticky_node 0; P1=$LAST_PID
wait_for sticky-node1 "$P1" http_ready "${STICKY_HTTP[0]}"
sticky_node 1; P2=$LAST_PID
sticky_node 2; P3=$LAST_PID
wait_for sticky-node2 "$P2" http_ready "${STICKY_HTTP[1]}"
wait_for sticky-node3 "$P3" http_ready "${STICKY_HTTP[2]}"

# Sanity: 20 ids through node 1 must all answer 200 and be spread over 3 hosting nodes.
declare -A HOSTS=()
for n in $(seq 1 20); do
  hdr=$(curl -s -D - -o /dev/null --max-time 10 -X POST -H 'Content-Type: application/json' \
    -d '{"op":"increment"}' "http://$HOST:${STICKY_HTTP[0]}/entities/counter/sanity-$n" | tr -d '\r')
  code=$(awk 'NR == 1 {print $2}' <<<"$hdr")
  node=$(awk -F': ' 'tolower($1) == "x-sticky-node" {print $2}' <<<"$hdr")
  [[ $code == 200 ]] || log "WARNING: sanity request sanity-$n answered ${code:-nothing}"
  [[ -n $node ]] && HOSTS[$node]=1
done
log "sanity: 20 ids through node 1 are hosted on ${#HOSTS[@]} distinct node(s)"
((${#HOSTS[@]} == 3)) || log "WARNING: expected 3 hosting nodes, saw ${#HOSTS[@]} (cluster not fully formed?)"

run_wrk sticky-warmup "${STICKY_HTTP[0]}" "$WARMUP" 1
cpu_mark
run_wrk sticky "${STICKY_HTTP[0]}" "$DURATION" 0
cpu_report node1 node2 node3; S_CPU=$CPU_LINE; S_TICKS=$CPU_JVM_TICKS
if [[ $(parse "$OUT/wrk-sticky.txt" | cut -d' ' -f6) != 0 ]]; then
  log "Sticky run had non-2xx responses; a 5 s diagnostic run with status counting follows"
  run_wrk sticky-diagnose "${STICKY_HTTP[0]}" 5 1
fi
# Consistency: read every counter 0..9999 back through node 2 (one keep-alive connection, curl URL globbing).
# Each 2xx POST incremented exactly one counter, so the sum of the values must equal the 2xx responses wrk
# counted, plus up to CONNECTIONS per wrk run for requests still in flight when wrk stopped (applied, not counted).
count_2xx=0; runs=0
for f in "$OUT"/wrk-sticky*.txt; do
  read -r _ _ _ _ r n _ < <(parse "$f")
  count_2xx=$((count_2xx + r - n)); runs=$((runs + 1))
done
log "reading counters 0..9999 back through node 2"
curl -s --max-time 120 -w '\n%{http_code}\n' "http://$HOST:${STICKY_HTTP[1]}/entities/counter/[0-9999]" >"$OUT/readback.txt" || true
read -r RB_SUM RB_OK RB_BAD < <(awk 'NR % 2 == 1 { if (match($0, /"value":[0-9]+/)) v = substr($0, RSTART + 8, RLENGTH - 8) + 0; else v = 0 }
  NR % 2 == 0 { if ($1 == 200) { ok++; sum += v } else bad++ }
  END { printf "%d %d %d\n", sum, ok, bad }' "$OUT/readback.txt")
CONSISTENCY="sum of counters $RB_SUM vs. 2xx counted by wrk $count_2xx (+0..$((runs * CONNECTIONS)) in flight): "
if ((RB_OK != 10000)); then
  CONSISTENCY+="INCOMPLETE, only $RB_OK of 10000 reads answered 200 ($RB_BAD did not)"
elif ((RB_SUM >= count_2xx && RB_SUM <= count_2xx + runs * CONNECTIONS)); then
  CONSISTENCY+="OK"
else
  CONSISTENCY+="MISMATCH (difference $((RB_SUM - count_2xx)))"
fi
log "$CONSISTENCY"
stop_all
log "Sticky nodes stopped"
S_ISSUES=$(log_issues "$STOP_AT" "$OUT"/sticky-node*.log)

# ---------------------------------------------------------------- 2. Ceiling, 2 JVMs
CEIL_MEMBERS=$(printf "$HOST:%s," "${CEIL_CLUSTER[@]}"); CEIL_MEMBERS=${CEIL_MEMBERS%,}
CEIL_NAME="$CLUSTER_NAME-ceiling"
start ceiling-echo java -Xmx"$HEAP" "${JPMS_FLAGS[@]}" -cp "$JAR" bench/Ceiling.java echo \
  --cluster-name "$CEIL_NAME" --cluster-port "${CEIL_CLUSTER[0]}" --members "$CEIL_MEMBERS"
PE=$LAST_PID
wait_for ceiling-echo "$PE" log_ready ceiling-echo
start ceiling-server java -Xmx"$HEAP" "${JPMS_FLAGS[@]}" -cp "$JAR" bench/Ceiling.java server \
  --cluster-name "$CEIL_NAME" --cluster-port "${CEIL_CLUSTER[1]}" --members "$CEIL_MEMBERS" --http-port "$CEIL_HTTP"
PS=$LAST_PID
wait_for ceiling-server "$PS" log_ready ceiling-server
wait_for ceiling-server "$PS" post_ok "$CEIL_HTTP" 1

run_wrk ceiling-warmup "$CEIL_HTTP" "$WARMUP" 1
cpu_mark
run_wrk ceiling "$CEIL_HTTP" "$DURATION" 0
cpu_report echo server; C_CPU=$CPU_LINE; C_TICKS=$CPU_JVM_TICKS
stop_all
log "ceiling JVMs stopped"
C_ISSUES=$(log_issues "$STOP_AT" "$OUT"/ceiling-*.log)

# ---------------------------------------------------------------- summary
LOAD_END=$(loadavg)
read -r S_RPS S_P50 S_P90 S_P99 S_REQ S_NON S_SOCK < <(parse "$OUT/wrk-sticky.txt")
read -r C_RPS C_P50 C_P90 C_P99 C_REQ C_NON C_SOCK < <(parse "$OUT/wrk-ceiling.txt")
RATIO=$(awk -v s="$S_RPS" -v c="$C_RPS" 'BEGIN { if (c + 0 > 0 && s + 0 > 0) printf "%.2f", s / c; else print "?" }')

{
  echo
  echo "== Sticky vs. ceiling: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, POST /entities/counter/<0..9999>, after ${WARMUP}s warm-up"
  printf '%-9s %10s %9s %9s %9s %10s %9s  %s\n' run "req/s" "p50 ms" "p90 ms" "p99 ms" requests non-2xx "socket errors"
  printf '%-9s %10s %9s %9s %9s %10s %9s  %s\n' sticky "$S_RPS" "$S_P50" "$S_P90" "$S_P99" "$S_REQ" "$S_NON" "$S_SOCK"
  printf '%-9s %10s %9s %9s %9s %10s %9s  %s\n' ceiling "$C_RPS" "$C_P50" "$C_P90" "$C_P99" "$C_REQ" "$C_NON" "$C_SOCK"
  echo "throughput sticky/ceiling: $RATIO"
  echo "sticky consistency: $CONSISTENCY"
  echo "CPU in the measured run (100% = one core; the rest of 'machine busy' is mostly wrk):"
  echo "  sticky:  $S_CPU"
  echo "  ceiling: $C_CPU"
  echo "JVM CPU per request (all JVMs of the setup): sticky $(us_per_req "$S_TICKS" "$S_REQ") us, ceiling $(us_per_req "$C_TICKS" "$C_REQ") us"
  echo "load average: start $LOAD_START, end $LOAD_END ($(nproc) cores)"
  echo
  echo "warm-up (${WARMUP}s from cold: entity activations and JIT; not comparable to the measured run):"
  for w in sticky ceiling; do
    read -r W_RPS W_P50 W_P90 W_P99 W_REQ W_NON W_SOCK < <(parse "$OUT/wrk-$w-warmup.txt")
    printf '  %-8s %6s req/s, p50 %s ms, p99 %s ms, max %s, non-2xx %s, socket errors %s\n' "$w" "$W_RPS" "$W_P50" "$W_P99" \
      "$(awk '$1 == "Latency" {print $4; exit}' "$OUT/wrk-$w-warmup.txt")" "$W_NON" "$W_SOCK"
  done
  echo "warm-up status counts and hosting nodes (X-Sticky-Node; '-' = none):"
  breakdown "$OUT/wrk-sticky-warmup.txt" | sed 's/^/  sticky  /'
  breakdown "$OUT/wrk-ceiling-warmup.txt" | sed 's/^/  ceiling /'
  if [[ -f $OUT/wrk-sticky-diagnose.txt ]]; then
    echo "Sticky diagnostic run (5 s, status counting):"
    breakdown "$OUT/wrk-sticky-diagnose.txt" | sed 's/^/  /'
  fi
  if [[ $S_NON != 0 || $C_NON != 0 ]]; then
    echo "NOTE: non-2xx responses in a measured run (sticky $S_NON, ceiling $C_NON): see the breakdown above and the node logs."
  fi
  echo "WARN/ERROR log lines per JVM, while running/at shutdown: $S_ISSUES$C_ISSUES"
  echo
  echo "raw wrk output and JVM logs: $OUT/"
  echo "rerun: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS bench/run.sh"
} | tee "$OUT/summary.txt"
