#!/usr/bin/env bash
# The engines Overlap grows onto beyond one machine, started natively beside `make infra`
# (`make test-cluster` uses them): a Redis Cluster of REDIS_CLUSTER_NODES primaries (3, no
# replicas) from Debian's redis-server, and a PostgreSQL streaming replica of the local
# primary from Debian's PostgreSQL.
# Usage: deploy/local/scale-out.sh up|down|status|stop redis-cluster-N|start redis-cluster-N
# Idempotent like infra.sh: what runs is left alone; a node that was stopped rejoins the
# cluster with its slots (nodes.conf), empty: the nodes keep no data (a cache, no RDB/AOF).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/infra.sh"
REDIS_CLUSTER_NODES=${REDIS_CLUSTER_NODES:-3}

# --- Redis Cluster --------------------------------------------------------------------
# Node i (1..N) serves REDIS_CLUSTER_PORT+i-1; its cluster bus is REDIS_CLUSTER_BUS_PORT+i-1
# (set, not the default port+10000, which would land among the tests' free ports).
rc_port() { echo $((REDIS_CLUSTER_PORT + $1 - 1)); }
rc_node_up() {  # rc_node_up I: start node I unless it runs
  local i=$1 dir=$OVERLAP_HOME/redis-cluster/$1 port
  port=$(rc_port "$i")
  if pid_alive "redis-cluster-$i" && port_open "$port"; then return 0; fi
  port_open "$port" && die "port $port is taken by another process (set REDIS_CLUSTER_PORT)"
  mkdir -p "$dir"
  # node-timeout 2 s: a lost primary is marked failed quickly; full coverage off: the other
  # primaries keep answering for their own slots meanwhile.
  start_bg "redis-cluster-$i" redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --cluster-port $((REDIS_CLUSTER_BUS_PORT + i - 1)) --cluster-require-full-coverage no \
    --save "" --appendonly no --daemonize no --maxmemory 256mb --maxmemory-policy allkeys-lru
  wait_for "redis-cluster-$i" 15 redis-cli -p "$port" ping
}
rc_ok() { redis-cli -p "$(rc_port "$1")" cluster info | grep -q '^cluster_state:ok'; }
rc_up() {
  apt_install redis-server
  local i nodes=()
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do
    rc_node_up "$i"
    nodes+=("127.0.0.1:$(rc_port "$i")")
  done
  # A new cluster: every slot unassigned on node 1. Assign them once (create), then wait.
  if redis-cli -p "$(rc_port 1)" cluster info | grep -q '^cluster_slots_assigned:0'; then
    log "creating the Redis Cluster ${nodes[*]}"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
      >>"$OVERLAP_HOME/log/redis-cluster-create.log" 2>&1 \
      || die_log "$OVERLAP_HOME/log/redis-cluster-create.log" "redis-cli --cluster create failed"
  fi
  for ((i = 1; i <= REDIS_CLUSTER_NODES; i++)); do wait_for "redis-cluster-$i" 30 rc_ok "$i"; done
  log "Redis Cluster ready on 127.0.0.1:$(rc_port 1)..$(rc_port "$REDIS_CLUSTER_NODES")"
}
rc_down() {
  local f
  for f in "$OVERLAP_HOME"/run/redis-cluster-*.pid; do
    [[ -e $f ]] && stop_pid "$(basename "$f" .pid)"
  done
  return 0
}

# --- PostgreSQL streaming replica ------------------------------------------------------
# A hot standby of the local primary (`make infra`'s), copied once with pg_basebackup -R
# (which writes standby.signal and primary_conninfo), on PG_REPLICA_PORT.
replica_psql() { psql -h 127.0.0.1 -p "$PG_REPLICA_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
replica_up() {
  local home data rlog
  home=$(pg_home); data=$home/replica; rlog=$home/replica.log
  if pid_alive postgres-replica && port_open "$PG_REPLICA_PORT"; then return 0; fi
  port_open "$PG_REPLICA_PORT" && die "port $PG_REPLICA_PORT is taken by another process (set PG_REPLICA_PORT)"
  if [[ ! -s $data/PG_VERSION ]]; then
    log "copying the PostgreSQL primary into the replica $data (pg_basebackup)"
    as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$data" -R -X stream \
      -c fast >/dev/null || die "pg_basebackup failed"
  fi
  ln -sfn "$rlog" "$OVERLAP_HOME/log/postgres-replica.log"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$rlog" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_REPLICA_PORT -c unix_socket_directories=$home \
        -c max_connections=300 -c hot_standby=on -c shared_buffers=128MB" start >/dev/null \
    || die_log "$rlog" "the PostgreSQL replica failed to start"
  head -1 "$data/postmaster.pid" >"$OVERLAP_HOME/run/postgres-replica.pid"
  wait_for postgres-replica 30 replica_psql -tAc 'select pg_is_in_recovery()'
  log "PostgreSQL replica ready on 127.0.0.1:$PG_REPLICA_PORT (streaming from :$PG_PORT)"
}
replica_down() {
  pid_alive postgres-replica || { rm -f "$OVERLAP_HOME/run/postgres-replica.pid"; return 0; }
  as_pg "$PG_BIN/pg_ctl" -D "$(pg_home)/replica" -m fast -w stop >/dev/null
  rm -f "$OVERLAP_HOME/run/postgres-replica.pid"; log "stopped postgres-replica"
}

case ${1:-} in
  up) mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"; pg_up; rc_up; replica_up ;;
  down) replica_down; rc_down ;;
  status)
    for s in postgres-replica $(seq -f 'redis-cluster-%g' 1 "$REDIS_CLUSTER_NODES"); do
      if pid_alive "$s"; then echo "$s: running (pid $(cat "$OVERLAP_HOME/run/$s.pid"))"; else echo "$s: stopped"; fi
    done ;;
  stop)  # a fault test: stop one node at once (KILL: a crash, not a shutdown)
    [[ ${2:-} == redis-cluster-* ]] || die "usage: $0 stop redis-cluster-N"
    f=$OVERLAP_HOME/run/$2.pid
    [[ -s $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null; rm -f "$f" ;;
  start)
    [[ ${2:-} == redis-cluster-* ]] || die "usage: $0 start redis-cluster-N"
    rc_node_up "${2#redis-cluster-}"; wait_for "$2" 30 rc_ok "${2#redis-cluster-}" ;;
  *) echo "usage: $0 up|down|status|stop redis-cluster-N|start redis-cluster-N" >&2; exit 2 ;;
esac
