# Shared by bench/run.sh, bench/rebalance.sh and bench/store.sh (sourced, not run). Expects HOST, JAR, OUT and PIDS.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# The fat jar, java and curl must be there; wrk is installed with apt-get if missing.
require_tools() {
  local script=$1
  if [[ ! -f $JAR ]]; then
    echo "$script: $JAR not found. Build it first:  mvn -B package -DskipTests" >&2
    exit 1
  fi
  command -v java >/dev/null || die "java not found (JDK 17+ needed)"
  command -v curl >/dev/null || die "curl not found"
  if ! command -v wrk >/dev/null; then
    log "wrk not found; installing it with apt-get"
    SUDO=""; if (( EUID != 0 )); then SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
      || die "could not install wrk; install it (apt-get install wrk) and rerun"
  fi
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
require_free_ports() {
  local p
  for p in "$@"; do
    if port_busy "$p"; then
      die "port $p on $HOST is already in use; stop whatever holds it (ss -ltnp | grep $p)"
    fi
  done
}

# start NAME CMD...: runs CMD in the background, output to $OUT/NAME.log, and remembers its pid.
start() {
  local name=$1; shift
  "$@" >"$OUT/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

http_ready() { curl -sf -o /dev/null --max-time 2 "http://$HOST:$1/health/ready"; }

# wrk's latency figures (e.g. 850.00us, 3.21ms, 1.05s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.0f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.0f", v * 1000 }
    else { printf "?" } }'
}

# Stops every JVM started here (PIDS), newest first and one at a time, so each leaves the cluster cleanly
# (stopping all members of a Hazelcast cluster at once makes the last ones log "replica has no owner"
# warnings). Each gets STOP_TIMEOUT seconds after SIGTERM, then SIGKILL. Sets STOP_AT (HH:MM:SS.mmm).
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
STOP_AT=""
stop_all() {
  local i pid deadline
  STOP_AT=$(date +%H:%M:%S.%3N)
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop within $STOP_TIMEOUT s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# The class-data-sharing archive the Docker image ships (see the Dockerfile): CDS=1 (default) makes it from
# $JAR with the image's training run when it is missing or older than the jar (about a minute, once per
# build), and sets CDS_OPTS to the option that makes a node use it; CDS=0 leaves CDS_OPTS empty (a JVM with
# only the JDK's own archive, as before session 7). Call after $OUT exists.
CDS=${CDS:-1}
CDS_ARCHIVE=${CDS_ARCHIVE:-target/sticky.jsa}
CDS_OPTS=()
prepare_cds() {
  [[ $CDS == 1 ]] || return 0
  if [[ ! -f $CDS_ARCHIVE || $CDS_ARCHIVE -ot $JAR ]]; then
    log "making the class-data-sharing archive $CDS_ARCHIVE from $JAR (the image's training run, about a minute)"
    rm -f "$CDS_ARCHIVE"
    java -Xmx512m -XX:ArchiveClassesAtExit="$CDS_ARCHIVE" -jar "$JAR" --training-run >"$OUT/cds-training.log" 2>&1 \
      || die "the training run failed; see $OUT/cds-training.log"
  fi
  CDS_OPTS=(-XX:SharedArchiveFile="$CDS_ARCHIVE")
}
