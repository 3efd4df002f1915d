#!/usr/bin/env bash
# Compose v2, built from the Go module proxy (no image registry or GitHub release here).
# Prints the path of the binary; builds it once and caches it outside the clone, like the
# Kafka jars. `go install` fails on compose's exclude directives, so the module is
# downloaded, then built in place with its own go.mod (fetching only the modules the build
# needs). One import is left out: buildx's Kubernetes build driver, which alone brings
# Kubernetes' client libraries: 340 of the 1,312 packages, half of the source to compile
# (24 of 47 MB); the binary is 34 MB instead of 67. Builds here go to the local engine.
set -euo pipefail
COMPOSE_VERSION=${COMPOSE_VERSION:-v2.40.3}
OVERLAP_CACHE=${OVERLAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/overlap}
dir=$OVERLAP_CACHE/compose-$COMPOSE_VERSION
bin=$dir/docker-compose
if [[ ! -x $bin ]]; then
  command -v go >/dev/null || {
    echo "compose v2 needs Go to build (apt-get install golang-go, or a Go toolchain)" >&2; exit 1; }
  echo "[images] building compose $COMPOSE_VERSION from the Go module proxy (minutes, once)" >&2
  src=$(GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  sed -i '\#"github.com/docker/buildx/driver/kubernetes"#d' "$work/pkg/compose/build_buildkit.go"
  mkdir -p "$dir"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$bin.tmp" ./cmd) >&2
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
