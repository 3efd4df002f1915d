#!/bin/sh
# `redis-server ARGS` gets --protected-mode no (as the official image does); other
# commands run as given.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
