# soketi (Pusher-protocol server) where quay.io/soketi/soketi cannot be pulled: Debian's
# Node plus npm, installing deploy/local/soketi's package.json (its `overrides` map
# uWebSockets.js to an npm build). Configured by the same SOKETI_* variables.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE} AS node
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nodejs >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# --- npm install (npm and its many packages stay in this stage) --------------------------
FROM node AS modules
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      npm ca-certificates >/dev/null
# Node's own CA list lacks the host's extra CAs (base.Dockerfile); the system bundle has them.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /opt/soketi
COPY deploy/local/soketi/package.json deploy/local/soketi/package-lock.json ./
# Debian's npm 9.2 cannot read the lock's override of a git dependency ("Invalid
# comparator"); it only installs a pinned npm 10, which runs `npm ci`.
RUN --mount=type=cache,target=/root/.npm \
    npm install -g --no-audit --no-fund --loglevel=error npm@10.9.2 \
 && /usr/local/bin/npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && abi=$(node -p process.versions.modules) \
 && find node_modules/uWebSockets.js/binaries -name '*.node' \
      ! -name "uws_linux_x64_${abi}.node" -delete

# --- runtime -----------------------------------------------------------------------------
FROM node
RUN groupadd --system --gid 10003 soketi \
 && useradd --system --uid 10003 --gid soketi --home-dir /opt/soketi --no-create-home \
      --shell /usr/sbin/nologin soketi
COPY --from=modules /opt/soketi /opt/soketi
ENV SOKETI_PORT=6001
USER soketi
EXPOSE 6001
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=20 \
  CMD node -e "require('http').get('http://127.0.0.1:6001/ready', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"
CMD ["/opt/soketi/node_modules/.bin/soketi", "start"]
