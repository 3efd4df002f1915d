# uv alone, as in ghcr.io/astral-sh/uv: the binary from the pinned PyPI wheel
# (deploy/images/build.sh unpacks it into the build context).
FROM scratch
COPY uv /uv
ENTRYPOINT ["/uv"]
