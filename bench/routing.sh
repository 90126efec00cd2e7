#!/usr/bin/env bash
# Owner-aware routing: the same load through one node of 3, with StickyClient straight to each entity's node,
# and against the stateless app on Redis (no persistence), alternated in one sitting by bench/Routing.java
# (a Java closed-loop load generator: CONNECTIONS calls in flight, increments of IDS random counters).
#
#   mvn -B package -DskipTests && bench/routing.sh                 # about 25 minutes with the defaults
#   ROUNDS=1 CLUSTER_WARMUP=4 WARMUP=5 DURATION=5 bench/routing.sh  # smoke run, about 3 minutes
#
# Settings: ROUNDS (3), CLUSTER_WARMUP (s, 40: each fresh cluster first serves both modes for half of it,
# discarded, so that neither mode measures a cold cluster), WARMUP (s, 20), DURATION (s, 15), CONNECTIONS (64), IDS (10000), STORE (none: the
# node's --store), ANCHOR (1: run the Redis anchor from $ANCHOR_DIR; 0: skip it), HEAP (512m).
# Each round: a fresh 3-node cluster; `entry` (every call to node 1) and `smart` (StickyClient, seeded with
# node 1), in alternating order from round to round; the cluster stops; then the anchor app on a fresh Redis
# (`url` mode on POST /counters/{id}/increment). Everything goes to bench/results/routing-<stamp>/: runs.tsv,
# summary.txt (medians and ratios) and routing.svg (also copied to bench/routing-latest.svg).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
CLUSTER_WARMUP=${CLUSTER_WARMUP:-40}
WARMUP=${WARMUP:-20}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
IDS=${IDS:-10000}
STORE=${STORE:-none}
ANCHOR=${ANCHOR:-1}
HEAP=${HEAP:-512m}
READY_TIMEOUT=${READY_TIMEOUT:-120}
ANCHOR_DIR=${ANCHOR_DIR:-/work/shared/anchors/stateless}

for v in ROUNDS CLUSTER_WARMUP WARMUP DURATION CONNECTIONS IDS READY_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "routing.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JAR=target/sticky.jar
HOST=127.0.0.1
HTTP=(18480 18481 18482)
CLUSTER=(16201 16202 16203)
APP_PORT=18490
ANCHOR_REDIS_PORT=16679
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$ROOT/bench/results/routing-$STAMP
# shellcheck source=bench/common.sh
source bench/common.sh

require_tools routing.sh
command -v python3 >/dev/null || die "python3 not found (it writes the table and the plot)"
if ((ANCHOR)); then
  [[ -f $ANCHOR_DIR/run.sh ]] || die "no anchor harness at $ANCHOR_DIR (set ANCHOR_DIR, or ANCHOR=0)"
  command -v redis-server >/dev/null || apt_install redis-server
fi
require_free_ports "${HTTP[@]}" "${CLUSTER[@]}" "$APP_PORT" "$ANCHOR_REDIS_PORT"
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/sticky-routing.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/tmp"
HARNESS_ENV=(BENCH_TMP="$WORK/tmp" REDIS_PORT="$ANCHOR_REDIS_PORT" REDIS_URL="redis://127.0.0.1:$ANCHOR_REDIS_PORT")
harness() { env "${HARNESS_ENV[@]}" "$@"; }
APP_PID=""
PIDS=()
cleanup() {
  local rc=$?
  ((${#PIDS[@]})) && stop_all
  [[ -z $APP_PID ]] || kill "$APP_PID" 2>/dev/null || true
  if [[ -d $WORK/stateless ]]; then (cd "$WORK/stateless" && harness ./stop-redis.sh --clean) >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

snapshot_jar "$WORK"
if ((ANCHOR)); then
  cp -r "$ANCHOR_DIR" "$WORK/stateless"
  chmod -R u+w "$WORK/stateless"
  rm -rf "$WORK/stateless/target" "$WORK/stateless/results"
  log "building the anchor app in $WORK/stateless"
  (cd "$WORK/stateless" && mvn -q -B -DskipTests package) >"$OUT/anchor-build.log" 2>&1 \
    || die "the anchor app did not build; see $OUT/anchor-build.log"
fi
{
  echo "stamp: $STAMP"
  echo "settings: ROUNDS=$ROUNDS CLUSTER_WARMUP=$CLUSTER_WARMUP WARMUP=$WARMUP DURATION=$DURATION CONNECTIONS=$CONNECTIONS IDS=$IDS STORE=$STORE HEAP=$HEAP"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "load average at start: $(loadavg) ($(nproc) cores)"
} | tee "$OUT/env.txt"

TSV=$OUT/runs.tsv
printf 'round\tsystem\trps\tp50_ms\tp99_ms\terrors\tstatus\n' >"$TSV"
# load PREFIX MODE TARGET: one Routing.java run (warm-up and measured window) into $OUT/PREFIX.txt; one TSV row.
load() {
  local prefix=$1 mode=$2 target=$3 res
  log "$prefix: $mode ($target), warm-up ${WARMUP}s, measured ${DURATION}s"
  if env CONNECTIONS="$CONNECTIONS" IDS="$IDS" WARMUP="$WARMUP" DURATION="$DURATION" \
    java -Xmx1g -cp "$JAR" bench/Routing.java "$mode" "$target" >"$OUT/$prefix.txt" 2>&1 \
    && res=$(grep '^RESULT' "$OUT/$prefix.txt"); then
    log "$prefix: $(field rps "$res") calls/s, p50 $(field p50_ms "$res") ms, p99 $(field p99_ms "$res") ms, errors $(field errors "$res")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\tok\n' "$round" "$mode" "$(field rps "$res")" "$(field p50_ms "$res")" \
      "$(field p99_ms "$res")" "$(field errors "$res")" >>"$TSV"
  else
    log "$prefix: FAILED: $(tail -1 "$OUT/$prefix.txt")"
    printf '%s\t%s\t\t\t\t\tfailed\n' "$round" "$mode" >>"$TSV"
  fi
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "---- round $round of $ROUNDS (load average $(loadavg))"
  start_cluster "r$round" --store "$STORE"
  if [[ -n $RUN_ERROR ]]; then
    log "r$round: cluster FAILED: $RUN_ERROR"
  else
    for mode in entry smart; do
      log "r$round: warming the cluster up with $mode for $((CLUSTER_WARMUP / 2))s (discarded)"
      env CONNECTIONS="$CONNECTIONS" IDS="$IDS" WARMUP=$((CLUSTER_WARMUP / 2)) DURATION=1 \
        java -Xmx1g -cp "$JAR" bench/Routing.java "$mode" "http://$HOST:${HTTP[0]}" >"$OUT/r$round-warm-$mode.txt" 2>&1 || true
    done
    order="entry smart"
    ((round % 2)) || order="smart entry"
    for mode in $order; do load "r$round-$mode" "$mode" "http://$HOST:${HTTP[0]}"; done
    stop_all
  fi
  if ((ANCHOR)); then
    if (cd "$WORK/stateless" && harness ./start-redis.sh && redis-cli -p "$ANCHOR_REDIS_PORT" CONFIG SET save "") \
      >"$OUT/r$round-redis.txt" 2>&1; then
      # The anchor's settings as durable.sh runs it: 2 verticle instances, 16 connections.
      # Not through harness(): a backgrounded function is a subshell, and killing it would leave the JVM running.
      env "${HARNESS_ENV[@]}" java -Xms512m -Xmx1g -jar "$WORK/stateless/target/stateless-counter-fat.jar" mode=redis port="$APP_PORT" \
        pool=16 instances=2 >"$OUT/r$round-app.log" 2>&1 &
      APP_PID=$!
      for _ in $(seq 1 150); do curl -sf -o /dev/null "http://$HOST:$APP_PORT/health" && break; sleep 0.2; done
      load "r$round-redis" url "http://$HOST:$APP_PORT/counters/{id}/increment"
      kill "$APP_PID" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$APP_PID" 2>/dev/null || true
      wait "$APP_PID" 2>/dev/null || true
      APP_PID=""
    else
      log "r$round: Redis did not start; see $OUT/r$round-redis.txt"
    fi
    (cd "$WORK/stateless" && harness ./stop-redis.sh --clean) >>"$OUT/r$round-redis.txt" 2>&1 || true
  fi
done

python3 - "$TSV" "$OUT" <<'EOF' | tee "$OUT/summary.txt"
import csv, statistics, sys
tsv, out = sys.argv[1], sys.argv[2]
rows = [r for r in csv.DictReader(open(tsv), delimiter="\t") if r["status"] == "ok"]
names = {"entry": "through node 1 of 3", "smart": "StickyClient (owner-aware)", "url": "stateless app on Redis (no persistence)"}
med = {}
for mode in ("entry", "smart", "url"):
    rs = [r for r in rows if r["system"] == mode]
    if rs:
        med[mode] = (statistics.median(float(r["rps"]) for r in rs), statistics.median(float(r["p99_ms"]) for r in rs),
                     statistics.median(float(r["p50_ms"]) for r in rs), sum(int(r["errors"]) for r in rs), len(rs))
print(f"{'system':42} {'calls/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'runs':>5} {'x entry':>8} {'x redis':>8}")
for mode, (rps, p99, p50, err, n) in med.items():
    xe = f"{rps / med['entry'][0]:.2f}" if "entry" in med else "-"
    xr = f"{rps / med['url'][0]:.2f}" if "url" in med else "-"
    print(f"{names[mode]:42} {rps:9.0f} {p50:7.2f} {p99:7.2f} {err:7d} {n:5d} {xe:>8} {xr:>8}")
if "entry" in med and "smart" in med:
    print(f"smart p99 / entry p99: {med['smart'][1] / med['entry'][1]:.2f}")
# bars of medians with p99 printed on each
w, h, bar = 640, 300, 120
top = max(v[0] for v in med.values()) * 1.15 if med else 1
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
       f'<text x="10" y="18" font-size="14">Increments/s (median), p99 on each bar; {len(set(r["round"] for r in rows))} round(s)</text>']
for i, (mode, (rps, p99, p50, err, n)) in enumerate(med.items()):
    x = 40 + i * (bar + 60); bh = (h - 90) * rps / top; y = h - 50 - bh
    svg.append(f'<rect x="{x}" y="{y:.0f}" width="{bar}" height="{bh:.0f}" fill="#4a7ab5"/>')
    svg.append(f'<text x="{x + bar / 2}" y="{y - 6:.0f}" text-anchor="middle">{rps:,.0f}/s, p99 {p99:.1f} ms</text>')
    svg.append(f'<text x="{x + bar / 2}" y="{h - 32}" text-anchor="middle">{names[mode].split(" (")[0]}</text>')
svg.append("</svg>")
open(f"{out}/routing.svg", "w").write("\n".join(svg))
EOF
cp "$OUT/routing.svg" bench/routing-latest.svg
log "results in $OUT"
