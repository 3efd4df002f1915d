# The base of every local image: the debootstrapped Debian root (overlap-rootfs, made by
# deploy/images/build.sh) plus the build host's extra CA certificates
# (/usr/local/share/ca-certificates), so apt, Maven, npm and uv inside the builds trust what
# the host trusts, e.g. an egress proxy's CA. Images that install ca-certificates pick them up.
ARG ROOTFS_IMAGE=debian:bookworm-slim
FROM ${ROOTFS_IMAGE}
COPY certs/ /usr/local/share/ca-certificates/
CMD ["bash"]
