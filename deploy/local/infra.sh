#!/usr/bin/env bash
# Local infrastructure without Docker: PostgreSQL, Redis, Apache Kafka (KRaft), soketi.
# Usage: deploy/local/infra.sh up|down|status
# Idempotent: installs what is missing, starts what is not running, all on 127.0.0.1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
HERE=$OVERLAP_ROOT/deploy/local
# Downloaded artifacts (Kafka jars, soketi's node_modules) are cached outside the clone,
# keyed by the hash of their manifest, so a fresh clone starts in seconds.
OVERLAP_CACHE=${OVERLAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/overlap}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

apt_install() {  # apt_install PKG...: install Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} (apt)"
  [[ $(id -u) == 0 ]] || die "installing ${missing[*]} needs root (or install them yourself)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- PostgreSQL -------------------------------------------------------------------
# PostgreSQL refuses to run as root. As root it runs as `postgres`, which must reach its data
# directory: a clone under a 0700 directory (/root/overlap) is out of its reach, so the data
# then lives in postgres's own home, one directory per OVERLAP_HOME (pg_home). Any other user
# runs it as themselves, in $OVERLAP_HOME/pg: no chown, no runuser.
pg_home() {
  if [[ -n ${PG_HOME:-} ]]; then echo "$PG_HOME"; return; fi
  mkdir -p "$OVERLAP_HOME"
  if [[ $(id -u) != 0 ]] || (cd / && runuser -u postgres -- test -x "$OVERLAP_HOME") 2>/dev/null; then
    echo "$OVERLAP_HOME/pg"
  else
    echo "/var/lib/postgresql/overlap/$(printf %s "$OVERLAP_HOME" | sha256sum | cut -c1-16)"
  fi
}
as_pg() {  # as_pg COMMAND...: run a PostgreSQL tool as the user that owns the cluster
  if [[ $(id -u) == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}
pg_up() {
  apt_install postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_HOME=$(pg_home)
  local data=$PG_HOME/data pglog=$PG_HOME/postgres.log
  if pid_alive postgres && port_open "$PG_PORT"; then return 0; fi
  port_open "$PG_PORT" && die "port $PG_PORT is taken by another process (set PG_PORT)"
  mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"
  if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PG_HOME" && chown postgres: "$PG_HOME" && chmod 0700 "$PG_HOME"
    [[ $PG_HOME == "$OVERLAP_HOME/pg" ]] || echo "$OVERLAP_HOME" >"$PG_HOME/owner"
  else
    mkdir -p "$PG_HOME" && chmod 0700 "$PG_HOME"
  fi
  if [[ ! -s $data/PG_VERSION ]]; then
    log "initialising PostgreSQL in $data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # The server writes its log where it can reach; $OVERLAP_HOME/log/postgres.log points to it.
  ln -sfn "$pglog" "$OVERLAP_HOME/log/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$pglog" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_HOME \
        -c max_connections=300 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB $(pg_statements)" start >/dev/null \
    || die_log "$pglog" "PostgreSQL failed to start"
  head -1 "$data/postmaster.pid" >"$OVERLAP_HOME/run/postgres.pid"
  wait_for postgres 30 psql_su -c 'select 1'
  psql_su -tAc "select 1 from pg_roles where rolname='$PG_USER'" | grep -q 1 \
    || psql_su -c "create role \"$PG_USER\" login password '$PG_PASSWORD' createdb" >/dev/null
  for db in "$PG_DB" "${PG_DB}_test"; do
    psql_su -tAc "select 1 from pg_database where datname='$db'" | grep -q 1 \
      || psql_su -c "create database \"$db\" owner \"$PG_USER\"" >/dev/null
  done
  [[ -z $(pg_statements) ]] || psql_su -qc 'create extension if not exists pg_stat_statements'
  log "PostgreSQL ready on 127.0.0.1:$PG_PORT (data: $data)"
}
# pg_stat_statements (contrib, in Debian's postgresql package): the calls and time of each
# statement, nested ones too (the outbox trigger's NOTIFY); its view is in the `postgres`
# database (README, "What one PUT costs PostgreSQL"). PG_STATEMENTS=off leaves it out.
pg_statements() {
  [[ ${PG_STATEMENTS:-on} == on && -f $("$PG_BIN/pg_config" --pkglibdir)/pg_stat_statements.so ]] || return 0
  echo "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
}
psql_su() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
pg_down() {
  pid_alive postgres || { rm -f "$OVERLAP_HOME/run/postgres.pid"; return 0; }
  PG_HOME=$(pg_home)
  as_pg "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -m fast -w stop >/dev/null
  rm -f "$OVERLAP_HOME/run/postgres.pid"; log "stopped postgres"
}

# --- Redis --------------------------------------------------------------------------
redis_up() {
  apt_install redis-server
  if pid_alive redis && port_open "$REDIS_PORT"; then return 0; fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process (set REDIS_PORT)"
  mkdir -p "$OVERLAP_HOME/redis"
  start_bg redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$OVERLAP_HOME/redis" \
    --save "" --appendonly no --daemonize no --maxmemory 1gb --maxmemory-policy allkeys-lru
  wait_for redis 15 redis-cli -p "$REDIS_PORT" ping
  log "Redis ready on 127.0.0.1:$REDIS_PORT"
}

# --- Apache Kafka (KRaft, jars from Maven Central) ------------------------------------
# KAFKA_BROKERS=1 (make run, make test): one node "kafka" on KAFKA_PORT/KAFKA_CONTROLLER_PORT,
# replication factor 1. KAFKA_BROKERS=3 (make chaos): nodes "kafka-1".."kafka-3", each both
# broker and controller (a quorum of 3 voters survives any one lost), on KAFKA_PORT+i-1 and
# KAFKA_CONTROLLER_PORT+i-1; replication factor 3, min.insync.replicas 2.
KAFKA_BROKERS=${KAFKA_BROKERS:-1}
kafka_libs() {
  local key dir
  key=$(sha256sum "$HERE/kafka/pom.xml" | cut -c1-16)
  dir=$OVERLAP_CACHE/kafka-$key
  if [[ ! -f $dir/.complete ]]; then
    log "fetching Apache Kafka jars from Maven Central (mvn)"
    command -v mvn >/dev/null || apt_install maven
    rm -rf "$dir"; mkdir -p "$dir"
    mvn -q -B -f "$HERE/kafka/pom.xml" package -Dlibs.dir="$dir/libs" -Dbuild.dir="$dir/target" >"$OVERLAP_HOME/log/kafka-mvn.log" 2>&1 \
      || die_log "$OVERLAP_HOME/log/kafka-mvn.log" "mvn could not fetch Kafka"
    touch "$dir/.complete"
  fi
  echo "$dir/libs"
}
kafka_nodes() {  # the node names: kafka, or kafka-1 .. kafka-N
  if ((KAFKA_BROKERS == 1)); then echo kafka; else seq -f 'kafka-%g' 1 "$KAFKA_BROKERS"; fi
}
kafka_index() { [[ $1 == kafka ]] && echo 1 || echo "${1#kafka-}"; }  # node name -> 1..N
kafka_port() { echo $((KAFKA_PORT + $(kafka_index "$1") - 1)); }
kafka_dir() { [[ $1 == kafka ]] && echo "$OVERLAP_HOME/kafka" || echo "$OVERLAP_HOME/kafka/$(kafka_index "$1")"; }
kafka_conf() {  # kafka_conf NODE: render its server.properties, print its path
  local node=$1 i dir voters="" n rf
  i=$(kafka_index "$node"); dir=$(kafka_dir "$node")
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do voters+="${voters:+,}$n@127.0.0.1:$((KAFKA_CONTROLLER_PORT + n - 1))"; done
  rf=$((KAFKA_BROKERS < 3 ? KAFKA_BROKERS : 3))
  mkdir -p "$dir/data"
  sed -e "s#@DATA@#$dir/data#" -e "s#@PORT@#$((KAFKA_PORT + i - 1))#g" \
      -e "s#@CONTROLLER_PORT@#$((KAFKA_CONTROLLER_PORT + i - 1))#g" -e "s#@NODE_ID@#$i#" \
      -e "s#@VOTERS@#$voters#" -e "s#@RF@#$rf#g" -e "s#@MIN_ISR@#$((rf > 1 ? rf - 1 : 1))#g" \
      "$HERE/kafka/server.properties" >"$dir/server.properties"
  echo "$dir/server.properties"
}
kafka_format() {  # kafka_format LIBS NODE CONF: format its storage once, with the cluster's id
  local libs=$1 node=$2 conf=$3 id_file=$OVERLAP_HOME/kafka/cluster.id
  [[ -f $(kafka_dir "$node")/data/meta.properties ]] && return 0
  # A cluster id is 16 random bytes, URL-safe base64 without padding (coreutils only). It is
  # passed as --cluster-id=ID: one in 64 starts with "-", which the tool would read as a flag.
  [[ -s $id_file ]] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$id_file"
  # The format tool is a short-lived JVM: a small heap, so it starts under tight limits.
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$libs/*" \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    kafka.tools.StorageTool format --cluster-id="$(cat "$id_file")" -c "$conf" --ignore-formatted \
    >>"$OVERLAP_HOME/log/$node.log" 2>&1 || die_log "$OVERLAP_HOME/log/$node.log" "Kafka storage format failed ($node)"
}
kafka_up() {
  ((KAFKA_BROKERS == 1 || KAFKA_PORT + KAFKA_BROKERS <= KAFKA_CONTROLLER_PORT || KAFKA_CONTROLLER_PORT + KAFKA_BROKERS <= KAFKA_PORT)) \
    || die "KAFKA_BROKERS=$KAFKA_BROKERS needs KAFKA_PORT.. and KAFKA_CONTROLLER_PORT.. $KAFKA_BROKERS apart"
  local libs node started=()
  mkdir -p "$OVERLAP_HOME/kafka" "$OVERLAP_HOME/log"
  libs=$(kafka_libs)
  for node in $(kafka_nodes); do
    if pid_alive "$node" && port_open "$(kafka_port "$node")"; then continue; fi
    port_open "$(kafka_port "$node")" && die "port $(kafka_port "$node") is taken by another process (set KAFKA_PORT)"
    kafka_format "$libs" "$node" "$(kafka_conf "$node")"
    kafka_start "$libs" "$node"
    started+=("$node")
  done
  # A node of a cluster starts only once a quorum of controllers runs: start all, then wait.
  # On a starved machine a node may give up waiting for the controller and exit: again, twice.
  local attempt
  for node in "${started[@]}"; do
    for attempt in 1 2 3; do
      kafka_wait "$node" 120 && break
      ((attempt < 3)) || die_log "$OVERLAP_HOME/log/$node.log" "$node did not start"
      if ! pid_alive "$node"; then
        log "$node exited during start-up: starting it again"
        kafka_start "$libs" "$node"
      fi
    done
    log "Kafka ready on 127.0.0.1:$(kafka_port "$node") ($node)"
  done
}
kafka_start() {  # kafka_start LIBS NODE
  : >"$OVERLAP_HOME/log/$2.log"
  # KAFKA_NICE (default 0): make chaos runs the brokers at a lower priority, standing in for
  # brokers on machines of their own (a restarted JVM's start-up would take both cores).
  start_bg "$2" nice -n "${KAFKA_NICE:-0}" java -Xms256m -Xmx${KAFKA_HEAP:-512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" -cp "$1/*" kafka.Kafka "$(kafka_dir "$2")/server.properties"
  lower_priority "$2" "${KAFKA_NICE:-0}"
}
kafka_wait() {  # kafka_wait NODE TIMEOUT_S: started (0), or exited / out of time (1)
  local deadline=$((SECONDS + $2))
  until kafka_started "$1"; do
    pid_alive "$1" && ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}
kafka_started() {
  port_open "$(kafka_port "$1")" && tail -n 400 "$OVERLAP_HOME/log/$1.log" | grep -q 'Kafka Server started'
}
kafka_down() {  # every node that runs here, whatever KAFKA_BROKERS says now (make stop)
  local f
  for f in "$OVERLAP_HOME"/run/kafka.pid "$OVERLAP_HOME"/run/kafka-*.pid; do
    [[ -e $f ]] && stop_pid "$(basename "$f" .pid)"
  done
  return 0
}

# --- soketi (Pusher-protocol server, from npm) ---------------------------------------
soketi_bin() {
  local key dir
  key=$(cat "$HERE/soketi/package.json" "$HERE/soketi/package-lock.json" | sha256sum | cut -c1-16)
  dir=$OVERLAP_CACHE/soketi-$key
  if [[ ! -f $dir/.complete ]]; then
    log "installing soketi (npm)"
    rm -rf "$dir"; mkdir -p "$dir"
    cp "$HERE/soketi/package.json" "$HERE/soketi/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$OVERLAP_HOME/log/soketi-npm.log" 2>&1 \
      || die_log "$OVERLAP_HOME/log/soketi-npm.log" "npm could not install soketi"
    touch "$dir/.complete"
  fi
  echo "$dir/node_modules/.bin/soketi"
}
soketi_up() {
  if pid_alive soketi && port_open "$SOKETI_PORT"; then return 0; fi
  port_open "$SOKETI_PORT" && die "port $SOKETI_PORT is taken by another process (set SOKETI_PORT)"
  local bin; bin=$(soketi_bin)
  start_bg soketi env SOKETI_HOST=127.0.0.1 SOKETI_PORT="$SOKETI_PORT" \
    SOKETI_METRICS_HOST=127.0.0.1 SOKETI_METRICS_SERVER_PORT="$SOKETI_METRICS_PORT" \
    SOKETI_METRICS_ENABLED=true \
    SOKETI_DEFAULT_APP_ID="$PUSHER_APP_ID" SOKETI_DEFAULT_APP_KEY="$PUSHER_KEY" \
    SOKETI_DEFAULT_APP_SECRET="$PUSHER_SECRET" SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES=false \
    SOKETI_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SEC=-1 SOKETI_DEFAULT_APP_MAX_READ_REQ_PER_SEC=-1 \
    SOKETI_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SEC=-1 "$bin" start
  wait_for soketi 30 curl -fsS "http://127.0.0.1:$SOKETI_PORT/ready"
  log "soketi ready on 127.0.0.1:$SOKETI_PORT"
}

up() {
  mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"
  apt_install curl nginx gettext-base
  # Kafka (JVM) starts slowest: launch it, bring up the rest meanwhile, then wait.
  pg_up; redis_up; soketi_up; kafka_up
}
down() {
  local f n  # first whatever else was started against this infrastructure (chaos runs)
  for f in "$OVERLAP_HOME"/run/*.pid; do
    [[ -e $f ]] || continue
    n=$(basename "$f" .pid)
    case $n in postgres | redis | kafka | kafka-* | soketi) ;; *) stop_pid "$n" ;; esac
  done
  stop_pid soketi; kafka_down; stop_pid redis; pg_down
}
status() {
  for s in postgres redis $(kafka_nodes) soketi; do
    if pid_alive "$s"; then echo "$s: running (pid $(cat "$OVERLAP_HOME/run/$s.pid"))"; else echo "$s: stopped"; fi
  done
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0  # sourced (scale-out.sh): the functions only
case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  start)  # start one service (the 0700-clone test): postgres
    case ${2:-} in postgres) mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"; pg_up ;; *) die "usage: $0 start postgres" ;; esac ;;
  stop)  # stop one service (fault tests): postgres|redis|kafka|soketi
    case ${2:-} in
      postgres) pg_down ;; redis|kafka|kafka-*|soketi) stop_pid "$2" ;;
      *) die "usage: $0 stop postgres|redis|kafka|kafka-N|soketi" ;;
    esac ;;
  *) echo "usage: $0 up|down|status|start postgres|stop SERVICE" >&2; exit 2 ;;
esac
