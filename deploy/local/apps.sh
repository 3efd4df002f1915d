#!/usr/bin/env bash
# The Overlap services and the nginx gateway, as local processes.
# Usage: deploy/local/apps.sh up|down|status|gateway-conf|gateway
# API_PROCESSES (default 1) API processes on API_PORT, API_PORT+1, ... (api-0, api-1, ...).
# up starts them with the launcher (python -m launcher up); down stops them by pid file.
# gateway-conf renders the gateway's nginx config; gateway runs nginx in the foreground with
# its error log on stdout, query strings cut (make chaos supervises it that way).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$OVERLAP_ROOT"
API_PROCESSES=${API_PROCESSES:-1}
VENV_BIN=$OVERLAP_ROOT/.venv/bin

gateway_conf() {
  local upstreams="" i
  for ((i = 0; i < API_PROCESSES; i++)); do upstreams+="server 127.0.0.1:$((API_PORT + i)); "; done
  mkdir -p "$OVERLAP_HOME/nginx"
  API_UPSTREAMS=$upstreams SOKETI_UPSTREAM=127.0.0.1:$SOKETI_PORT \
  WEB_ROOT=$OVERLAP_ROOT/deploy/web GATEWAY_RATE=${GATEWAY_RATE:-100} \
  GATEWAY_ACCESS_LOG=$OVERLAP_HOME/log/gateway-access.log GATEWAY_PORT=$GATEWAY_PORT \
    envsubst '${API_UPSTREAMS} ${SOKETI_UPSTREAM} ${WEB_ROOT} ${GATEWAY_RATE} ${GATEWAY_ACCESS_LOG} ${GATEWAY_PORT}' \
    <deploy/gateway/overlap.conf.template >"$OVERLAP_HOME/nginx/overlap.conf"
  local user=""
  [[ $(id -u) == 0 ]] && user="user root;"
  cat >"$OVERLAP_HOME/nginx/nginx.conf" <<CONF
$user
worker_processes 1;
pid $OVERLAP_HOME/nginx/nginx.pid;
error_log stderr warn;
daemon off;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  client_body_temp_path $OVERLAP_HOME/nginx/body;
  proxy_temp_path $OVERLAP_HOME/nginx/proxy;
  fastcgi_temp_path $OVERLAP_HOME/nginx/fastcgi;
  uwsgi_temp_path $OVERLAP_HOME/nginx/uwsgi;
  scgi_temp_path $OVERLAP_HOME/nginx/scgi;
  include $OVERLAP_HOME/nginx/overlap.conf;
}
CONF
}

# nginx's error lines quote the request line, the upstream URL and the referrer with their
# query strings, which may hold a key sent there by mistake: they are cut before the log.
QUERY_FILTER='s/\?[^ ]*( HTTP\/[0-9.]+")/\1/g; s/\?[^"]*("|$)/\1/g'
gateway() {  # nginx in the foreground, its error log (stderr) filtered onto stdout
  nginx -e stderr -p "$OVERLAP_HOME/nginx" -c "$OVERLAP_HOME/nginx/nginx.conf" 2>&1 \
    | sed -u -E "$QUERY_FILTER"
}

up() {
  command -v nginx >/dev/null || die "nginx is missing: run 'deploy/local/infra.sh up' first"
  [[ -x $VENV_BIN/overlap-api ]] || die "run 'make install' first (no .venv)"
  "$VENV_BIN/python" -m overlap_shared.topics
  "$VENV_BIN/alembic" -c services/api/alembic.ini upgrade head || die "database migrations failed"
  mkdir -p "$OVERLAP_HOME/log" "$OVERLAP_HOME/run"
  if ! pid_alive gateway; then
    gateway_conf
    nginx -t -q -e stderr -p "$OVERLAP_HOME/nginx" -c "$OVERLAP_HOME/nginx/nginx.conf" 2>>"$OVERLAP_HOME/log/gateway.log" \
      || die_log "$OVERLAP_HOME/log/gateway.log" "gateway config invalid"
  fi
  # The processes (API_PROCESSES APIs, the three workers, the gateway): what each runs, its
  # port and health URL are launcher/services.py's, shared with chaos, the bench and tests.
  "$VENV_BIN/python" -m launcher up || die "the stack did not start"
}

down() {
  local apis=() f
  for f in "$OVERLAP_HOME"/run/api-*.pid; do [[ -e $f ]] && apis+=("$(basename "$f" .pid)"); done
  stop_pid gateway "${apis[@]}" availability invalidator notifier
}

status() {
  for f in "$OVERLAP_HOME"/run/*.pid; do
    [[ -e $f ]] || continue
    n=$(basename "$f" .pid)
    if pid_alive "$n"; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: dead"; fi
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  gateway-conf) gateway_conf ;;
  gateway) gateway ;;
  *) echo "usage: $0 up|down|status|gateway-conf|gateway" >&2; exit 2 ;;
esac
