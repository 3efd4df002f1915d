#!/bin/bash
# Stand-in for apache/kafka's tool of this name, for health checks only: succeeds when
# the broker given by --bootstrap-server HOST:PORT accepts connections.
set -eu
server=127.0.0.1:9092
while (($#)); do
  if [[ $1 == --bootstrap-server ]]; then server=$2; shift; fi
  shift
done
exec 3<>"/dev/tcp/${server%:*}/${server##*:}"
