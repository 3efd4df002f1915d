# Redis from Debian, started like the official redis image: `redis-server ARGS` on all
# interfaces without protected mode (the network is the container's), as user redis.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /data && chown redis:redis /data
COPY deploy/images/redis/entrypoint.sh /usr/local/bin/overlap-redis
WORKDIR /data
USER redis
EXPOSE 6379
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD redis-cli ping || exit 1
ENTRYPOINT ["overlap-redis"]
CMD ["redis-server"]
