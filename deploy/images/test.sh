#!/usr/bin/env bash
# The container test runs, on the images of `make images`:
#   deploy/images/test.sh containers [PYTEST_ARGS]  integration tests on testcontainers
#   deploy/images/test.sh compose [PYTEST_ARGS]     deploy/compose.yaml up, through the gateway
# Ryuk (testcontainers' reaper) has no image here: containers are removed by the fixtures,
# and any left by a killed run are removed here by their label.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/env.sh"
cd "$OVERLAP_ROOT"
set -a; source deploy/images/images.env; set +a
export TESTCONTAINERS_RYUK_DISABLED=true
export DOCKER=${DOCKER:-/usr/bin/docker}  # also for the bench smoke test (bench/container_pids.py)
deploy/images/engine.sh up

remove_leftovers() {
  local ids
  ids=$("$DOCKER" ps -aq --filter label=dev.overlap.testcontainers=1)
  [[ -z $ids ]] || "$DOCKER" rm -f -v $ids >/dev/null
}

kind=${1:?usage: $0 containers|compose [PYTEST_ARGS]}; shift
status=0
case $kind in
  containers)
    export OVERLAP_SERVICES=testcontainers
    export DOMAIN_TOPIC=overlap.test.domain.v1 VIEWS_TOPIC=overlap.test.views.v1
    remove_leftovers
    # Per-test timeout 300 s (120 s in pyproject): a module's first test also waits for the
    # service processes it starts (up to 180 s each, tests/servers.py) beside the containers.
    .venv/bin/pytest -o timeout=300 tests/integration "$@" || status=$?
    remove_leftovers ;;
  compose)
    export OVERLAP_SERVICES=compose
    COMPOSE_BIN=$(deploy/images/compose-v2.sh); export COMPOSE_BIN
    .venv/bin/pytest tests/compose -s "$@" || status=$? ;;
  *) die "usage: $0 containers|compose [PYTEST_ARGS]" ;;
esac
exit "$status"
