#!/usr/bin/env bash
# The Docker engine for `make images`, the compose test and testcontainers.
# Usage: deploy/images/engine.sh up|down
#   up    install Debian's docker.io if missing; start dockerd if none answers (recording
#         that this script started it)
#   down  stop dockerd, but only if `up` started it
# Debian's /usr/bin/docker is used on purpose: a newer /usr/local/bin/docker may come first
# on PATH and lacks buildx, which BuildKit builds need.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/env.sh"
DOCKER=${DOCKER:-/usr/bin/docker}
RUN=$OVERLAP_HOME/run

answers() { "$DOCKER" info >/dev/null 2>&1; }

up() {
  if [[ ! -x $DOCKER ]] || ! command -v dockerd >/dev/null; then
    [[ $(id -u) == 0 ]] || die "Docker is missing; installing docker.io needs root"
    log "installing docker.io (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  answers && return 0
  [[ $(id -u) == 0 ]] || die "no Docker engine answers, and starting dockerd needs root"
  log "starting dockerd (log: $OVERLAP_HOME/log/dockerd.log)"
  start_bg dockerd dockerd
  mv "$RUN/dockerd.pid" "$RUN/dockerd.started-by-overlap.pid"
  local deadline=$((SECONDS + 60))
  until answers; do
    ((SECONDS < deadline)) || die "dockerd did not answer within 60s (log: $OVERLAP_HOME/log/dockerd.log)"
    sleep 0.5
  done
}

down() {
  local f=$RUN/dockerd.started-by-overlap.pid pid
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    log "stopped dockerd"
  fi
  rm -f "$f"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
