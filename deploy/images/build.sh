#!/usr/bin/env bash
# `make images`: every image deploy/compose.yaml and the testcontainers fixtures use, built
# here without an image registry, from a debootstrapped Debian base, apt, Maven Central,
# npm and PyPI. BuildKit caches every step, so a second run with nothing changed takes
# seconds; the debootstrap root is made only when missing (OVERLAP_REBUILD_BASE=1 redoes it).
# Prints the images and their sizes; deploy/images/images.env names them for compose.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/env.sh"
cd "$OVERLAP_ROOT"
source deploy/images/images.env
export DOCKER_BUILDKIT=1
DOCKER=${DOCKER:-/usr/bin/docker}
OVERLAP_CACHE=${OVERLAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/overlap}
UV_VERSION=$(sed -n 's/^UV_VERSION := //p' Makefile)
ROOTFS_IMAGE=${ROOTFS_IMAGE:-overlap-rootfs:bookworm}

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# build IMAGE DOCKERFILE [--build-arg ...]: context is the repository root.
build() {
  local image=$1 file=$2 started=$SECONDS; shift 2
  "$DOCKER" build -q --network host -f "$file" -t "$image" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@" . >/dev/null || die "image $image did not build"
  log "image $image ($((SECONDS - started)) s)"
}

# worker NAME DIR HEALTH_PORT [--build-arg ...]: one of the three workers, from the one
# services/worker.Dockerfile (its package and console script are overlap-NAME).
worker() {
  local name=$1 dir=$2 port=$3; shift 3
  build "overlap-$name:${OVERLAP_TAG:-latest}" services/worker.Dockerfile "$@" \
    --build-arg "SERVICE=$dir" --build-arg "PACKAGE=overlap-$name" --build-arg "HEALTH_PORT=$port"
}

# The debootstrapped root (once; OVERLAP_REBUILD_BASE=1 redoes it), then the base image.
rootfs() {
  if have_image "$ROOTFS_IMAGE" && [[ -z ${OVERLAP_REBUILD_BASE:-} ]]; then return 0; fi
  command -v debootstrap >/dev/null || {
    log "installing debootstrap (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  local mirror root
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  root=$(mktemp -d)
  log "image $ROOTFS_IMAGE (debootstrap bookworm from ${mirror:=http://deb.debian.org/debian})"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$OVERLAP_HOME/log/debootstrap.log" 2>&1 \
    || die "debootstrap failed (log: $OVERLAP_HOME/log/debootstrap.log)"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$root/etc/apt/apt.conf.d/90overlap"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import -c 'CMD ["bash"]' - "$ROOTFS_IMAGE" >/dev/null
  rm -rf "$root"
}

base() {
  rootfs
  local context
  context=$(mktemp -d)
  mkdir "$context/certs"
  cp /usr/local/share/ca-certificates/*.crt "$context/certs/" 2>/dev/null || true
  log "image $BASE_IMAGE (from $ROOTFS_IMAGE)"
  "$DOCKER" build -q --network host -f deploy/images/base.Dockerfile -t "$BASE_IMAGE" \
    --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" "$context" >/dev/null
  rm -rf "$context"
}

# uv's binary from its pinned PyPI wheel (as ghcr.io/astral-sh/uv ships it).
uv_image() {
  local dir=$OVERLAP_CACHE/uv-$UV_VERSION
  if [[ ! -x $dir/uv ]]; then
    log "fetching uv $UV_VERSION (PyPI)"
    rm -rf "$dir"; mkdir -p "$dir/wheel"
    python3 -m pip download -q --no-deps --only-binary :all: -d "$dir/wheel" "uv==$UV_VERSION"
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
open(sys.argv[2], "wb").write(z.read(next(n for n in z.namelist() if n.endswith("/scripts/uv"))))' \
      "$(ls "$dir"/wheel/*.whl)" "$dir/uv"
    chmod +x "$dir/uv"
  fi
  log "image $UV_IMAGE"
  "$DOCKER" build -q --network host -f deploy/images/uv.Dockerfile -t "$UV_IMAGE" "$dir" >/dev/null
}

# Three lanes at once after the base (each build mostly waits on apt, Maven, npm or PyPI):
# the service images on the Python one, Kafka and Redis, soketi, PostgreSQL and the gateway.
services() {
  build "$PYTHON_IMAGE" deploy/images/python.Dockerfile
  uv_image
  local bases=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --build-arg "UV_IMAGE=$UV_IMAGE")
  build "overlap-api:${OVERLAP_TAG:-latest}" services/api/Dockerfile "${bases[@]}"
  worker availability availability 8101 "${bases[@]}"
  worker invalidator cache-invalidator 8102 "${bases[@]}"
  worker notifier notifier 8103 "${bases[@]}"
}

infrastructure_a() {
  build "$KAFKA_IMAGE" deploy/images/kafka.Dockerfile
  build "$REDIS_IMAGE" deploy/images/redis.Dockerfile
}

infrastructure_b() {
  build "$SOKETI_IMAGE" deploy/images/soketi.Dockerfile
  build "$POSTGRES_IMAGE" deploy/images/postgres.Dockerfile
  build "$GATEWAY_IMAGE" deploy/images/gateway.Dockerfile
}

main() {
  mkdir -p "$OVERLAP_HOME/log"
  deploy/images/engine.sh up
  local started=$SECONDS lane failed=0 pids=()
  base
  for lane in services infrastructure_a infrastructure_b; do
    "$lane" &
    pids+=("$!")
  done
  for lane in "${pids[@]}"; do wait "$lane" || failed=1; done
  ((failed == 0)) || die "some images did not build (see above)"
  log "images built in $((SECONDS - started))s"
  "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep '^overlap-' | sort
}

main "$@"
