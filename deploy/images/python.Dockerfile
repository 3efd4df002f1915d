# Python 3.11 runtime for the service images where python:3.11-slim cannot be pulled:
# Debian bookworm's python3 (3.11) at the paths the official image uses.
#   docker build -f deploy/images/python.Dockerfile --build-arg BASE_IMAGE=overlap-base:bookworm .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3 ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && ln -s /usr/bin/python3.11 /usr/local/bin/python3.11 \
 && ln -s /usr/bin/python3.11 /usr/local/bin/python3 \
 && ln -s /usr/bin/python3.11 /usr/local/bin/python
CMD ["python3"]
