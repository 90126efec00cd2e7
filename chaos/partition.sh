#!/usr/bin/env bash
# Partition test harness for Sticky's quorum / self-fencing (issue 17). See chaos/README.md.
#
# Runs 5 real Sticky nodes (java -jar target/sticky.jar), each in its own network namespace, wired by veth
# pairs to a bridge in a namespace of its own; drives increments from one client per side; cuts the network
# into two sides, heals it, reads every counter back from a majority node and checks the history.
#
# Needs root and `ip netns`; without them it prints "SKIPPED: <why>" and exits 0. Exit status: 0 all checks
# passed, 1 a check failed, 2 the harness itself failed (a node did not start, a tool is missing, ...).
#
# Options (environment):
#   SCENARIOS       splits to run, e.g. "3|2 4|1" (first N nodes | the rest) or "3,4,5|1,2" (explicit sides)
#   SPLIT_SECONDS   how long the network stays cut                      (20; SHORT: 12)
#   SETTLE_SECONDS  load after the heal before the clients stop          (20; SHORT: 12)
#   WARMUP_SECONDS  load before the split                                (8;  SHORT: 4)
#   IDS             counters in the shared pool c0..c<IDS-1>            (50; SHORT: 20)
#   SHORT=1         CI mode: SCENARIOS="3|2" with the short times above
#   WORKERS         concurrent requests per client (12);  PAUSE  seconds between a worker's requests (0.1)
#   DEADLINE        fencing deadline checked for the minority, seconds (5)
#   CUT             bridge (default): move the minority's bridge ports to a second bridge;
#                   down: `ip link set <minority's bridge ports> down` (isolates every minority node, also
#                   from the others of its side)
#   JAR             the fat jar (target/sticky.jar; copied into the output directory before use)
#   JAVA_OPTS       JVM options of each node ("-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1")
#   NODE_ARGS       extra options for every node, e.g. "--store hazelcast" (none: the default store)
#   NODE_LOG_LEVEL  level of the nodes' io.sticky loggers (INFO; DEBUG shows replication and allocation steps)
#   MAX_LOAD        before starting JVMs, wait while the 1-minute load is above this (3; 0 = don't wait)
#   OUT             output directory (target/chaos/<stamp>)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

SHORT=${SHORT:-0}
if [[ $SHORT == 1 ]]; then
  SCENARIOS=${SCENARIOS:-"3|2"}
  SPLIT_SECONDS=${SPLIT_SECONDS:-12}
  SETTLE_SECONDS=${SETTLE_SECONDS:-12}
  WARMUP_SECONDS=${WARMUP_SECONDS:-4}
  IDS=${IDS:-20}
else
  SCENARIOS=${SCENARIOS:-"3|2 4|1"}
  SPLIT_SECONDS=${SPLIT_SECONDS:-20}
  SETTLE_SECONDS=${SETTLE_SECONDS:-20}
  WARMUP_SECONDS=${WARMUP_SECONDS:-8}
  IDS=${IDS:-50}
fi
WORKERS=${WORKERS:-12}
PAUSE=${PAUSE:-0.1}
DEADLINE=${DEADLINE:-5}
CUT=${CUT:-bridge}
JAR=${JAR:-$ROOT/target/sticky.jar}
JAVA_OPTS=${JAVA_OPTS:-"-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
NODE_LOG_LEVEL=${NODE_LOG_LEVEL:-INFO}
read -r -a NODE_EXTRA <<<"${NODE_ARGS:-}"
MAX_LOAD=${MAX_LOAD:-3}
OUT=${OUT:-$ROOT/target/chaos/$(date +%Y%m%d-%H%M%S)}

NODES=5
SUBNET=10.77.0          # node i has 10.77.0.(10+i)/24; nothing else uses the range
HTTP_PORT=8080
CLUSTER_PORT=5701
TAG="sticky-chaos-$$"   # prefix of every namespace this run creates
BRNS="$TAG-br"          # the namespace holding the bridges

CREATED_NS=()           # namespaces to delete on exit
NODE_PIDS=()            # pids of the node JVMs (ip netns exec execs java: same pid)
CLIENT_PIDS=()
POLLER_PID=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }
skip() { echo "SKIPPED: $*"; exit 0; }
now() { date +%s.%N; }
nap() { sleep "$1" & wait "$!"; }   # unlike a bare sleep, lets the TERM trap run at once

kill_pids() {
  local p
  for p in "$@"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  for p in "$@"; do
    wait "$p" 2>/dev/null || true
  done
}

teardown() {
  [[ -n $POLLER_PID ]] && kill_pids "$POLLER_PID"
  POLLER_PID=""
  ((${#CLIENT_PIDS[@]})) && kill_pids "${CLIENT_PIDS[@]}"
  CLIENT_PIDS=()
  ((${#NODE_PIDS[@]})) && kill_pids "${NODE_PIDS[@]}"
  NODE_PIDS=()
  local ns p
  for ns in "${CREATED_NS[@]}"; do
    # anything still running inside our own namespaces (a probe that was cut off mid-way)
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true   # also removes its veth ends and bridges
  done
  CREATED_NS=()
}

# shellcheck disable=SC2317  # reached through the EXIT trap
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  teardown
  exit "$rc"
}
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- preflight ------------------------------------------------------------------------------------------
[[ $(id -u) == 0 ]] || skip "needs root for network namespaces, veth pairs and bridges (running as uid $(id -u))"
command -v ip >/dev/null 2>&1 || skip "'ip' (iproute2) not found"
ip netns list >/dev/null 2>&1 || skip "'ip netns' is not available"
probe="$TAG-probe"
err=$(ip netns add "$probe" 2>&1) || skip "cannot create a network namespace ('ip netns add': $err)"
CREATED_NS+=("$probe")
err=$(ip -n "$probe" link add pb0 type bridge 2>&1) || skip "cannot create a bridge in a namespace ($err)"
err=$(ip -n "$probe" link add pv0 type veth peer name pv1 2>&1) || skip "cannot create a veth pair ($err)"
# for the record only: the cut does not use netem (see chaos/README.md)
NETEM=no
command -v tc >/dev/null 2>&1 && tc -n "$probe" qdisc add dev pv0 root netem loss 100% 2>/dev/null && NETEM=yes
teardown

for tool in java python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done
[[ -f $JAR ]] || die "$JAR not found: build it first (mvn -B package -DskipTests)"
[[ $CUT == bridge || $CUT == down ]] || die "CUT must be bridge or down, not '$CUT'"
read -r -a JOPTS <<<"$JAVA_OPTS"

wait_for_load() {
  [[ $MAX_LOAD == 0 ]] && return 0
  local load
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l > m) }'; then
      log "1-minute load $load is above $MAX_LOAD: waiting 30 s before starting JVMs"
      nap 30
    else
      return 0
    fi
  done
}

wait_for_load   # before any JVM, --version included
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cp "$JAR" "$OUT/sticky.jar"   # another build may replace target/sticky.jar while we run
{
  echo "started    $(date -Is)"
  echo "scenarios  $SCENARIOS"
  echo "split      ${SPLIT_SECONDS}s  settle ${SETTLE_SECONDS}s  warmup ${WARMUP_SECONDS}s  ids $IDS  workers $WORKERS  pause $PAUSE"
  echo "deadline   ${DEADLINE}s  cut $CUT"
  echo "jar        $JAR ($(java -jar "$OUT/sticky.jar" --version 2>/dev/null | head -1))"
  echo "java opts  $JAVA_OPTS (io.sticky log level $NODE_LOG_LEVEL)"
  echo "node args  ${NODE_ARGS:-(none)}"
  echo "kernel     $(uname -r) (tc netem available: $NETEM)"
  echo "jar file   $(stat -c "%s bytes, modified %y" "$JAR"), sha256 $(sha256sum "$OUT/sticky.jar" | cut -c1-16)"
} >"$OUT/params.txt"
log "output in $OUT"


# sleep_until T0 SECONDS: sleeps until SECONDS after the wall-clock time T0
sleep_until() {
  nap "$(awk -v t0="$1" -v s="$2" -v t="$(now)" 'BEGIN { d = t0 + s - t; printf "%.3f", (d > 0 ? d : 0) }')"
}

ns_of() { echo "$TAG-n$1"; }
ip_of() { echo "$SUBNET.$((10 + $1))"; }
url_of() { echo "http://$(ip_of "$1"):$HTTP_PORT"; }

# curl from inside node $1's namespace: http_in NODE PATH [curl args...]
http_in() {
  local n=$1 path=$2
  shift 2
  ip netns exec "$(ns_of "$n")" curl -s -m 2 "$@" "$(url_of "$n")$path"
}

make_network() {
  ip netns add "$BRNS"
  CREATED_NS+=("$BRNS")
  ip -n "$BRNS" link set lo up
  local br i ns
  for br in br0 br1; do
    ip -n "$BRNS" link add "$br" type bridge
    ip -n "$BRNS" link set "$br" up
  done
  for ((i = 1; i <= NODES; i++)); do
    ns=$(ns_of "$i")
    ip netns add "$ns"
    CREATED_NS+=("$ns")
    ip -n "$ns" link set lo up
    ip -n "$BRNS" link add "n$i" type veth peer name eth0 netns "$ns"
    ip -n "$ns" addr add "$(ip_of "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$BRNS" link set "n$i" master br0
    ip -n "$BRNS" link set "n$i" up
  done
}

# split_net NODES...: separates the given nodes from the others; heal_net undoes it
split_net() { relink br1 down "$@"; }
heal_net() { relink br0 up "$@"; }
# relink BRIDGE STATE NODES...: moves each node's port to BRIDGE (CUT=bridge) or sets the link STATE (CUT=down)
relink() {
  local bridge=$1 state=$2 i
  shift 2
  for i in "$@"; do
    if [[ $CUT == bridge ]]; then
      ip -n "$BRNS" link set "n$i" master "$bridge"
    else
      ip -n "$BRNS" link set "n$i" "$state"
    fi
  done
}

start_node() {
  local i=$1 dir=$2 members=$3 cluster=$4 deadline
  STICKY_LOG_LEVEL=$NODE_LOG_LEVEL ip netns exec "$(ns_of "$i")" java "${JOPTS[@]}" -jar "$OUT/sticky.jar" \
    --host "$(ip_of "$i")" --http-host 0.0.0.0 --http-port "$HTTP_PORT" --cluster-port "$CLUSTER_PORT" \
    --members "$members" --cluster-name "$cluster" "${NODE_EXTRA[@]}" >"$dir/node-n$i.log" 2>&1 &
  NODE_PIDS+=("$!")
  deadline=$((SECONDS + 120))
  until http_in "$i" /health/ready -f -o /dev/null; do
    if ! kill -0 "${NODE_PIDS[-1]}" 2>/dev/null; then
      tail -n 30 "$dir/node-n$i.log" >&2
      die "node n$i exited during start-up (log: $dir/node-n$i.log)"
    fi
    ((SECONDS < deadline)) || die "node n$i not ready within 120 s (log: $dir/node-n$i.log)"
    sleep 0.5
  done
}

# Without a fixed cluster size, a node counts its majority from the last membership that stayed unchanged
# for 10 s; a split before every node counts from all five would be judged against a smaller base.
wait_for_base() {
  local deadline=$((SECONDS + 60)) i ok body
  while :; do
    ok=1
    for ((i = 1; i <= NODES; i++)); do
      body=$(http_in "$i" /health/ready || true)
      [[ $body == *'"base":'"$NODES"[,\}]* ]] || ok=0
    done
    ((ok)) && return 0
    ((SECONDS < deadline)) || die "quorum base did not reach $NODES members on every node within 60 s"
    sleep 1
  done
}

poll_health() {
  local i t code
  while :; do
    for ((i = 1; i <= NODES; i++)); do
      t=$(now)
      code=$(http_in "$i" /health/ready -o /dev/null -w '%{http_code}' -m 1 || true)
      printf '%s\t%s\t%s\n' "$t" "n$i" "${code:-000}"
    done
    sleep 1
  done
}

# parse_sides SPEC: sets MAJ and MIN (arrays of node numbers)
parse_sides() {
  local spec=$1 a b
  a=${spec%%|*}
  b=${spec#*|}
  [[ $spec == *"|"* && -n $a && -n $b ]] || die "bad scenario '$spec' (use e.g. 3|2 or 1,2,3|4,5)"
  if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
    ((a + b == NODES)) || die "scenario '$spec': sides must add up to $NODES"
    mapfile -t MAJ < <(seq 1 "$a")
    mapfile -t MIN < <(seq $((a + 1)) "$NODES")
  else
    IFS=, read -r -a MAJ <<<"$a"
    IFS=, read -r -a MIN <<<"$b"
    ((${#MAJ[@]} + ${#MIN[@]} == NODES)) || die "scenario '$spec': every node must be on one side"
  fi
  ((${#MAJ[@]} > ${#MIN[@]})) || die "scenario '$spec': the first side must be the majority"
}

urls() {
  local out="" i
  for i in "$@"; do out+="${out:+,}$(url_of "$i")"; done
  echo "$out"
}
json_list() {
  local out="" x
  for x in "$@"; do out+="${out:+,}\"$x\""; done
  echo "[$out]"
}

run_scenario() {
  local spec=$1 name dir cluster members i t_load t_split t_heal t_stop
  parse_sides "$spec"
  name="split-${spec//[|,]/-}"
  dir="$OUT/$name"
  mkdir -p "$dir"
  DIRS+=("$dir")
  cluster="chaos-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  members=""
  for ((i = 1; i <= NODES; i++)); do members+="${members:+,}$(ip_of "$i"):$CLUSTER_PORT"; done

  log "[$spec] majority n${MAJ[*]} | minority n${MIN[*]}; cluster $cluster"
  make_network
  wait_for_load
  for ((i = 1; i <= NODES; i++)); do
    start_node "$i" "$dir" "$members" "$cluster"
    log "[$spec] n$i ready ($(ip_of "$i"))"
  done
  wait_for_base
  log "[$spec] every node counts its quorum from $NODES members"

  poll_health >"$dir/health.tsv" 2>/dev/null &
  POLLER_PID=$!
  local side nodes
  for side in majority minority; do
    if [[ $side == majority ]]; then nodes=("${MAJ[@]}"); else nodes=("${MIN[@]}"); fi
    ip netns exec "$(ns_of "${nodes[0]}")" python3 "$HERE/client.py" run --side "$side" \
      --targets "$(urls "${nodes[@]}")" --ids "$IDS" --workers "$WORKERS" --pause "$PAUSE" \
      --out "$dir/client-$side.jsonl" >"$dir/client-$side.log" 2>&1 &
    CLIENT_PIDS+=("$!")
  done
  t_load=$(now)
  log "[$spec] load running; split in $WARMUP_SECONDS s"
  nap "$WARMUP_SECONDS"

  t_split=$(now)
  split_net "${MIN[@]}"
  log "[$spec] SPLIT ($CUT): n${MIN[*]} cut off for $SPLIT_SECONDS s"
  # the cut must hold across the sides and (CUT=bridge) keep each side connected
  if ip netns exec "$(ns_of "${MIN[0]}")" curl -s -o /dev/null --connect-timeout 1 -m 1 "$(url_of "${MAJ[0]}")/health/live"; then
    die "[$spec] n${MIN[0]} still reaches n${MAJ[0]} after the cut"
  fi
  if [[ $CUT == bridge && ${#MIN[@]} -gt 1 ]] &&
    ! ip netns exec "$(ns_of "${MIN[0]}")" curl -s -o /dev/null -m 2 "$(url_of "${MIN[1]}")/health/live"; then
    die "[$spec] n${MIN[0]} no longer reaches n${MIN[1]} on its own side"
  fi
  sleep_until "$t_split" "$SPLIT_SECONDS"

  t_heal=$(now)
  heal_net "${MIN[@]}"
  log "[$spec] HEAL; settling for $SETTLE_SECONDS s"
  sleep_until "$t_heal" "$SETTLE_SECONDS"

  t_stop=$(now)
  kill -TERM "${CLIENT_PIDS[@]}" 2>/dev/null || true
  for i in "${CLIENT_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
  CLIENT_PIDS=()
  kill_pids "$POLLER_PID"
  POLLER_PID=""
  log "[$spec] clients stopped; reading every counter back from n${MAJ[0]}"
  ip netns exec "$(ns_of "${MAJ[0]}")" python3 "$HERE/client.py" read --target "$(url_of "${MAJ[0]}")" \
    --ids "$IDS" --out "$dir/final.json" --where "$dir/where.json" 2>"$dir/read.log" || log "[$spec] some counters could not be read (see read.log)"
  for ((i = 1; i <= NODES; i++)); do
    http_in "$i" /cluster >"$dir/cluster-n$i.json" 2>/dev/null || true
    http_in "$i" /health/ready >"$dir/ready-n$i.json" 2>/dev/null || true
  done
  http_in "${MAJ[0]}" '/cluster/shards?type=counter' >"$dir/shards.json" 2>/dev/null || true
  local maj_urls=() min_urls=() node_map=""
  for ((i = 1; i <= NODES; i++)); do node_map+="${node_map:+, }\"$(url_of "$i")\": \"n$i\""; done
  for i in "${MAJ[@]}"; do maj_urls+=("$(url_of "$i")"); done
  for i in "${MIN[@]}"; do min_urls+=("$(url_of "$i")"); done
  cat >"$dir/events.json" <<EOF
{"scenario": "$spec", "cut": "$CUT", "cluster": "$cluster", "deadline": $DEADLINE,
 "majority": $(json_list "${MAJ[@]/#/n}"), "minority": $(json_list "${MIN[@]/#/n}"),
 "majority_urls": $(json_list "${maj_urls[@]}"), "minority_urls": $(json_list "${min_urls[@]}"),
 "nodes_by_url": {$node_map},
 "load": $t_load, "split": $t_split, "heal": $t_heal, "stop": $t_stop}
EOF
  timeline "$dir" "$t_load" "$t_split" "$t_heal" "$t_stop"
  teardown
  log "[$spec] done"
}

# timeline DIR T_LOAD T_SPLIT T_HEAL T_STOP: the harness's steps and the nodes' key log lines, in time order
timeline() {
  local dir=$1 i
  {
    printf -- '-- %s harness: load starts\n' "$(date -d "@$2" +%H:%M:%S.%3N)"
    printf -- '-- %s harness: SPLIT\n' "$(date -d "@$3" +%H:%M:%S.%3N)"
    printf -- '-- %s harness: HEAL\n' "$(date -d "@$4" +%H:%M:%S.%3N)"
    printf -- '-- %s harness: clients stopped\n' "$(date -d "@$5" +%H:%M:%S.%3N)"
    for ((i = 1; i <= NODES; i++)); do
      grep -E 'lost its majority|majority again|quorum base is now|retiring|retired|left: its shards|coordinator (started|stopped)|Suspecting Member|Mastership|failed|ERROR|lost|hand-off|Members \{' \
        "$dir/node-n$i.log" | grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}' | sed "s/^/n$i /" || true
    done
  } | sort -s -k2,2 | cut -c1-400 >"$dir/timeline.txt"
}

DIRS=()
for spec in $SCENARIOS; do
  run_scenario "$spec"
done

log "checking"
set +e
python3 "$HERE/check.py" "${DIRS[@]}" | tee "$OUT/check.txt"
rc=${PIPESTATUS[0]}
set -e
echo "output: $OUT"
exit "$rc"
