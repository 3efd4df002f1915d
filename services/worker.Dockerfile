# The three Overlap workers (stateless Kafka consumers) from one file: the build arguments
# name the service directory, its package (= its console script) and its health port.
# Build context is the repository root:
#   docker build -f services/worker.Dockerfile -t overlap-availability \
#     --build-arg SERVICE=availability --build-arg PACKAGE=overlap-availability \
#     --build-arg HEALTH_PORT=8101 .
#   SERVICE=cache-invalidator PACKAGE=overlap-invalidator HEALTH_PORT=8102
#   SERVICE=notifier          PACKAGE=overlap-notifier    HEALTH_PORT=8103
# Scale one with `docker compose up --scale availability=N`.

# Bases are build arguments: the official images by default; `make images` passes the
# local builds (deploy/images/images.env), as no registry is reachable there.
ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
FROM ${UV_IMAGE} AS uv

# --- builder: resolve the frozen workspace lock into a self-contained venv -------------
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ARG PACKAGE
RUN : "${SERVICE:?build with --build-arg SERVICE=<dir under services/>}" \
      "${PACKAGE:?build with --build-arg PACKAGE=<its package, e.g. overlap-notifier>}"
COPY --from=uv /uv /usr/local/bin/uv
# SSL_CERT_FILE: uv trusts the system CA bundle (which may hold a build proxy's CA) rather
# than only its built-in list.
ENV UV_COMPILE_BYTECODE=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Every workspace member's pyproject.toml must be present for uv to read the workspace
# (members = ["shared", "services/*"]); only this service's sources are copied below.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY services/api/pyproject.toml services/api/pyproject.toml
COPY services/availability/pyproject.toml services/availability/pyproject.toml
COPY services/cache-invalidator/pyproject.toml services/cache-invalidator/pyproject.toml
COPY services/notifier/pyproject.toml services/notifier/pyproject.toml
# Third-party dependencies first: this layer is reused until uv.lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "$PACKAGE"
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
# Workspace members as real (non-editable) wheels, so the venv needs no source tree. The
# service's console script is linked as overlap-worker, the runtime's one command.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "$PACKAGE" \
 && ln -s "$PACKAGE" /app/.venv/bin/overlap-worker \
 && test -x /app/.venv/bin/overlap-worker

# --- runtime -----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG HEALTH_PORT=8101
RUN groupadd --system --gid 10001 overlap \
 && useradd --system --uid 10001 --gid overlap --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin overlap
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
# The health/metrics/AsyncAPI server listens on all interfaces inside the container, on
# HEALTH_PORT (which the settings prefer to <SERVICE>_HEALTH_PORT).
ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=${HEALTH_PORT}
USER 10001:10001
EXPOSE ${HEALTH_PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ['HEALTH_PORT'], timeout=4)" || exit 1
CMD ["overlap-worker"]
