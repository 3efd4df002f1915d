# Shared defaults for the local stack. Sourced by the scripts here and by `make`.
# Every value can be overridden from the environment.
OVERLAP_ROOT=${OVERLAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OVERLAP_HOME=${OVERLAP_HOME:-$OVERLAP_ROOT/.local}       # data, logs, pids (git-ignored)
export OVERLAP_ROOT OVERLAP_HOME

export PG_PORT=${PG_PORT:-5432}
export REDIS_PORT=${REDIS_PORT:-6379}
export KAFKA_PORT=${KAFKA_PORT:-9092}
export KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
export SOKETI_PORT=${SOKETI_PORT:-6001}
export SOKETI_METRICS_PORT=${SOKETI_METRICS_PORT:-9601}
export GATEWAY_PORT=${GATEWAY_PORT:-8080}
export API_PORT=${API_PORT:-8000}
export AVAILABILITY_HEALTH_PORT=${AVAILABILITY_HEALTH_PORT:-8101}
export INVALIDATOR_HEALTH_PORT=${INVALIDATOR_HEALTH_PORT:-8102}
export NOTIFIER_HEALTH_PORT=${NOTIFIER_HEALTH_PORT:-8103}
# Beyond one machine (deploy/local/scale-out.sh, make test-cluster): next to the ports above.
export REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-$((REDIS_PORT + 30))}          # nodes 1..3
export REDIS_CLUSTER_BUS_PORT=${REDIS_CLUSTER_BUS_PORT:-$((REDIS_PORT + 50))}  # their buses
export PG_REPLICA_PORT=${PG_REPLICA_PORT:-$((PG_PORT + 40))}

export PG_DB=${PG_DB:-overlap}
export PG_USER=${PG_USER:-overlap}
export PG_PASSWORD=${PG_PASSWORD:-overlap}

# What the services read (pydantic-settings, see shared/src/overlap_shared/settings.py).
export DATABASE_URL=${DATABASE_URL:-postgresql+asyncpg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}
export PUSHER_APP_ID=${PUSHER_APP_ID:-1001}
export PUSHER_KEY=${PUSHER_KEY:-overlap-local-key}
export PUSHER_SECRET=${PUSHER_SECRET:-overlap-local-secret}
export PUSHER_HOST=${PUSHER_HOST:-127.0.0.1}
export PUSHER_PORT=${PUSHER_PORT:-$SOKETI_PORT}
export PUSHER_SSL=${PUSHER_SSL:-false}
# Browser access: other frontends' origins (empty: same-origin only); proxies the API
# believes about the client's address (the local gateway).
export CORS_ORIGINS=${CORS_ORIGINS:-}
export FORWARDED_ALLOW_IPS=${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}

log() { printf '\033[1m[local]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[local] %s\033[0m\n' "$*" >&2; exit 1; }
# die_log LOG MESSAGE: fail, showing the log's last lines (CI keeps only what is printed).
die_log() {
  [[ -f $1 ]] && tail -n 40 "$1" | sed 's/^/  | /' >&2
  die "$2 (log: $1)"
}

# wait_for NAME TIMEOUT_S COMMAND... : poll COMMAND until it succeeds, or fail naming NAME.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -f $OVERLAP_HOME/run/$name.pid ]] && ! pid_alive "$name"; then
      die_log "$OVERLAP_HOME/log/$name.log" "$name exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      die_log "$OVERLAP_HOME/log/$name.log" "$name did not become ready within ${timeout}s"
    fi
    sleep 0.2
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive NAME: the process recorded in $OVERLAP_HOME/run/NAME.pid is running.
pid_alive() {
  local f=$OVERLAP_HOME/run/$1.pid
  [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# start_bg NAME COMMAND...: start COMMAND detached, log to log/NAME.log, record its pid.
start_bg() {
  local name=$1; shift
  mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"
  setsid "$@" >>"$OVERLAP_HOME/log/$name.log" 2>&1 < /dev/null &
  echo $! >"$OVERLAP_HOME/run/$name.pid"
}

# lower_priority NAME NICE: run the session of a process started with start_bg at priority
# NICE. `nice` alone does nothing here: start_bg's setsid gives each process a scheduling
# autogroup of its own (Linux's sched_autogroup, on by default), groups share the CPU evenly
# whatever their members' nice, and only the group's own nice weighs against other groups.
lower_priority() {
  local group
  group=/proc/$(cat "$OVERLAP_HOME/run/$1.pid")/autogroup
  [[ $2 == 0 || ! -w $group ]] || echo "$2" >"$group" 2>/dev/null || true
}

# stop_pid NAME...: stop processes started with start_bg, together (TERM to each, then KILL
# to those still running after 10 s): each takes about 2 s to stop cleanly, one after
# another they took 10 s.
stop_pid() {
  local n f pid i names=() pids=()
  for n in "$@"; do
    f=$OVERLAP_HOME/run/$n.pid
    [[ -s $f ]] || { rm -f "$f"; continue; }
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
      names+=("$n")
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    kill -KILL -- "-${pids[$i]}" 2>/dev/null || true
    log "stopped ${names[$i]}"
  done
}
