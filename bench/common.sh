# Shared by the bench/*.sh scripts (sourced, not run). Expects HOST, JAR, OUT and PIDS; the cluster and wrk
# helpers at the end also HTTP and CLUSTER (3 ports each), HEAP, READY_TIMEOUT, THREADS, CONNECTIONS, WARMUP,
# DURATION, LUA and, for the pg-* scenarios, PG_URI.
# shellcheck shell=bash disable=SC2034,SC2153  # sets variables for the scripts that source it, reads theirs

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
  command -v wrk >/dev/null || apt_install wrk
}

# apt_install PACKAGE...: installs Debian packages with apt-get (sudo when not root), or dies saying what to do.
apt_install() {
  local sudo=""
  if ((EUID != 0)); then sudo="sudo"; fi
  log "installing $* with apt-get"
  if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
    die "could not install $*; install it (apt-get install $*) and rerun"
  fi
}

# snapshot_jar DIR: copies $JAR into DIR and points JAR at the copy, so a rebuild during the run does not
# change the nodes' jar under them.
snapshot_jar() {
  cp "$JAR" "$1/sticky.jar" || die "could not copy $JAR to $1"
  JAR=$1/sticky.jar
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

# field KEY LINE: the value of KEY=value in a line of space-separated KEY=value pairs.
field() { sed -n 's/.*[ ]'"$1"'=\([^ ]*\).*/\1/p' <<<"$2"; }

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
# only the JDK's own archive). Call after $OUT exists.
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

# ---------------------------------------------------------------- throwaway PostgreSQL
# require_pg: sets PG_BIN to the directory with initdb and pg_ctl: $PG_BIN if set, else the PATH's, else
# /usr/local/bin or a Debian postgresql package's (installed with apt-get if none is there). The server runs
# as the `postgres` OS user, since it refuses root.
require_pg() {
  local d
  for d in "${PG_BIN:-}" "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")" /usr/local/bin \
    /usr/lib/postgresql/*/bin; do
    if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then PG_BIN=$d; break; fi
  done
  if [[ -z ${PG_BIN:-} || ! -x $PG_BIN/initdb ]]; then
    apt_install postgresql
    PG_BIN=$(find /usr/lib/postgresql -path '*/bin/initdb' 2>/dev/null | sort -V | tail -1 | xargs -r dirname)
    [[ -n $PG_BIN ]] || die "no initdb/pg_ctl after installing postgresql"
  fi
  getent passwd postgres >/dev/null || die "no 'postgres' user to run the server as (the server refuses root)"
}

# start_pg PORT: a throwaway server in a temp dir on $HOST:PORT with fsync and synchronous_commit on, the
# rest at PostgreSQL's defaults. Sets PG_DIR and PG_URI; stop_pg stops it and removes the dir (call it on exit).
PG_DIR=""
PG_URI=""
start_pg() {
  local port=$1
  PG_DIR=$(mktemp -d /tmp/sticky-bench-pg.XXXXXX)
  chown postgres "$PG_DIR"
  su postgres -s /bin/sh -c "'$PG_BIN/initdb' -D '$PG_DIR/data' -U postgres -A trust >'$PG_DIR/initdb.log' 2>&1" \
    || die "initdb failed: $PG_DIR/initdb.log"
  su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w \
    -o '-c listen_addresses=$HOST -p $port -k $PG_DIR -c fsync=on -c synchronous_commit=on' start" >/dev/null \
    || die "PostgreSQL did not start: $PG_DIR/server.log"
  PG_URI="postgresql://postgres@$HOST:$port/postgres"
  log "PostgreSQL on $HOST:$port ($("$PG_BIN/postgres" --version)), fsync and synchronous_commit on"
}
stop_pg() {
  [[ -n $PG_DIR ]] || return 0
  su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}

# ---------------------------------------------------------------- 3-node clusters and wrk figures
# The store scenarios (bench/store.sh, bench/durable.sh): NAME -> node flags, and the write policy.
scenario_flags() {
  case $1 in
    none) echo "--store none" ;;
    memory) echo "--store memory" ;;
    hz-before | hz-behind) echo "--store hazelcast" ;;
    pg-before | pg-behind) echo "--store postgres --postgres-uri ${PG_URI:-<no-postgres-started>}" ;;
    repl-before | repl-behind) echo "--store replicated" ;;
    *) return 1 ;;
  esac
}
scenario_policy() { if [[ $1 == *-behind ]]; then echo write-behind; else echo before-reply; fi; }
scenario_store() { scenario_flags "$1" | awk '{print $2}'; }

# start_cluster PREFIX NODE_ARGS...: 3 fresh nodes (java -Xmx$HEAP $NODE_JAVA_OPTS -jar $JAR NODE_ARGS..., HTTP[i] and
# CLUSTER[i] on $HOST, a random cluster name, logs $OUT/PREFIX-node{1,2,3}.log), each waited for in turn
# (READY_TIMEOUT). A node that exits or is not ready in time sets RUN_ERROR (with its last log line) and
# stops the nodes started so far; it does not end the script.
start_cluster() {
  local prefix=$1 i name members cluster deadline opts=${NODE_JAVA_OPTS:-}
  shift
  RUN_ERROR=""
  members=$(printf "$HOST:%s," "${CLUSTER[@]}")
  members=${members%,}
  cluster="sticky-bench-$prefix-$RANDOM$RANDOM"
  for i in 0 1 2; do
    name=$prefix-node$((i + 1))
    # NODE_JAVA_OPTS: extra JVM flags for every node, %N its number, e.g. a JFR recording (word-split on purpose).
    # shellcheck disable=SC2086
    start "$name" java -Xmx"$HEAP" ${opts//%N/$((i + 1))} -jar "$JAR" "$@" --http-host "$HOST" --http-port "${HTTP[$i]}" --host "$HOST" \
      --cluster-name "$cluster" --cluster-port "${CLUSTER[$i]}" --members "$members"
    deadline=$((SECONDS + READY_TIMEOUT))
    until http_ready "${HTTP[$i]}"; do
      if ! kill -0 "$LAST_PID" 2>/dev/null; then
        RUN_ERROR="node $((i + 1)) exited: $(grep -v '^[[:space:]]*$' "$OUT/$name.log" | tail -1 | cut -c1-300) (log: $OUT/$name.log)"
      elif ((SECONDS >= deadline)); then
        RUN_ERROR="node $((i + 1)) not ready after ${READY_TIMEOUT}s (log: $OUT/$name.log)"
      fi
      if [[ -n $RUN_ERROR ]]; then
        stop_all
        return 0
      fi
      sleep 0.5
    done
  done
}

# cluster_died: RUN_ERROR if a node started by start_cluster has exited.
cluster_died() {
  local i
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null || RUN_ERROR="node $((i + 1)) died during the run (pid ${PIDS[$i]})"
  done
}

# parse_wrk FILE: WRK_RPS, WRK_P50 and WRK_P99 (ms), WRK_NON2XX and WRK_SOCKERR (all socket errors) from a
# `wrk --latency` report.
parse_wrk() {
  local f=$1
  WRK_RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
  WRK_P50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$f")")
  WRK_P99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$f")")
  WRK_NON2XX=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2; exit}' "$f")
  WRK_NON2XX=${WRK_NON2XX:-0}
  WRK_SOCKERR=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; exit}' "$f")
  WRK_SOCKERR=${WRK_SOCKERR:-0}
}

# sticky_scenario PREFIX SCENARIO: one store scenario on a fresh cluster: its writePolicy in $OUT/PREFIX.yaml,
# start_cluster with its store flags, a WARMUP-second wrk warm-up ($OUT/PREFIX-warmup.txt), a measured
# DURATION-second `wrk -t$THREADS -c$CONNECTIONS --latency -s $LUA` to node 1 ($OUT/PREFIX.txt), stop_all.
# Sets the WRK_* figures, or RUN_ERROR (unknown scenario, a node did not start or died, wrk failed).
sticky_scenario() {
  local prefix=$1 name=$2 cfg flags=() url=http://$HOST:${HTTP[0]}
  RUN_ERROR=""
  if ! scenario_flags "$name" >/dev/null; then
    RUN_ERROR="unknown scenario $name"
    return 0
  fi
  read -r -a flags <<<"$(scenario_flags "$name")"
  cfg=$OUT/$prefix.yaml
  printf 'entity-types:\n  defaults:\n    writePolicy: %s\n' "$(scenario_policy "$name")" >"$cfg"
  start_cluster "$prefix" --config "$cfg" "${flags[@]}"
  [[ -z $RUN_ERROR ]] || return 0
  log "$prefix: 3 nodes ready ($(scenario_flags "$name" | sed "s|${PG_URI:-^$}|<pg>|"), writePolicy $(scenario_policy "$name")); warm-up ${WARMUP}s"
  if ((WARMUP > 0)) && ! wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$url" >"$OUT/$prefix-warmup.txt" 2>&1; then
    RUN_ERROR="wrk warm-up failed: $(tail -1 "$OUT/$prefix-warmup.txt")"
  elif ! wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$url" >"$OUT/$prefix.txt" 2>&1; then
    RUN_ERROR="wrk failed: $(tail -1 "$OUT/$prefix.txt")"
  else
    cluster_died
  fi
  stop_all
  [[ -n $RUN_ERROR ]] || parse_wrk "$OUT/$prefix.txt"
}

# count_blocked FILE [FROM TO]: lines of Vert.x's blocked-thread checker ("Thread ... has been blocked for
# N ms") in a node log, or only those stamped FROM <= HH:MM:SS.mmm < TO.
count_blocked() {
  awk -v from="${2:-}" -v to="${3:-}" '
    /has been blocked for|[Tt]hread blocked/ { if (from == "" || ($1 >= from && $1 < to)) n++ }
    END { print n + 0 }' "$1"
}

# Wall clock in the JVM logs' format (logback %d{HH:mm:ss.SSS}, local time).
tod() { date +%H:%M:%S.%3N; }
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
# The box's CPU counters (jiffies, all cores): "busy total"; busy = user+nice+system+irq+softirq+steal.
cpu_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
# The JIT compiler threads of the node JVMs: one "tid jiffies" line per C1/C2 compiler thread (utime + stime).
# On a small box the JIT is a large, changing share of the CPU (docs/benchmarks.md, "Where the CPU
# of a move goes"), so each window records it apart from the rest.
# jit_threads PID...: of these JVMs.
jit_threads() {
  local pid t comm
  for pid in "$@"; do
    [[ -n $pid ]] || continue
    for t in /proc/"$pid"/task/*; do
      { read -r comm <"$t/comm"; } 2>/dev/null || continue
      [[ $comm == C[12]" CompilerThre"* ]] || continue
      awk -v id="${t##*/}" '{ sub(/^.*\) /, ""); print id, $12 + $13 }' "$t/stat" 2>/dev/null || true
    done
  done
}
# jit_pct BEFORE AFTER BOX_JIFFIES: the % of the box (BOX_JIFFIES: all cores' jiffies in between, from
# cpu_jiffies) the compiler threads used between two jit_threads snapshots (threads that started in between
# count from 0; one that ended in between loses its last part)
jit_pct() {
  printf '%s\n--\n%s\n' "$1" "$2" | awk -v total="$3" '$1 == "--" { s = 1; next } !s { a[$1] = $2; next }
    NF == 2 { d += $2 - (($1 in a) ? a[$1] : 0) } END { print (total > 0 ? int(d * 100 / total) : 0) }'
}
