# syntax=docker/dockerfile:1
# clusterbridge service image: the daemon by default; any CLI command as arguments.
#   docker build -t clusterbridge:0.1.0 .
#   docker run --env-file deploy/clusterbridge.env clusterbridge:0.1.0                  # scheduled syncs
#   docker run --env-file deploy/clusterbridge.env clusterbridge:0.1.0 sync --dry-run
# compose.yaml runs it with its PostgreSQL ledger (deploy/README.md).
#
# The base image is pinned by tag and by the digest of its multi-architecture index, so that a rebuild gets
# the same Python and Debian until the pin is moved on purpose. To move it (a new Python patch release, or
# Debian security fixes under the same tag):
#   docker buildx imagetools inspect python:3.11.<patch>-slim-bookworm     # the "Digest:" line
# then put the new tag and digest below; tests/test_packaging.py checks the pin's form.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# -- build: every wheel the service needs, at the versions of constraints.txt ------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY constraints.txt ./
RUN pip install -c constraints.txt hatchling
COPY pyproject.toml README.md ./
COPY src ./src
COPY connectors ./connectors
COPY mappings ./mappings
COPY migrations ./migrations
# the project's wheel (carrying connectors/, mappings/ and migrations/), then the wheels of its dependencies
RUN pip wheel -c constraints.txt --no-deps --no-build-isolation --wheel-dir /wheels . \
 && pip wheel -c constraints.txt --wheel-dir /wheels /wheels/clusterbridge-*.whl

# -- runtime: the service alone, installed from those wheels without reaching an index --------------------
FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
# set by the build that publishes the image, e.g. --build-arg SOURCE_URL=<repository> --build-arg REVISION=<sha>
ARG SOURCE_URL=""
ARG REVISION=""
LABEL org.opencontainers.image.title="clusterbridge" \
      org.opencontainers.image.description="Keeps the European Cluster Collaboration Platform and KICOX's Korean Cluster Information Platform showing each other's cluster organisations." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="EUPL-1.2" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-bookworm"
RUN --mount=type=bind,from=build,source=/wheels,target=/tmp/wheels \
    --mount=type=bind,source=constraints.txt,target=/tmp/constraints.txt \
    pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore --no-index \
        --find-links /tmp/wheels \
        -c /tmp/constraints.txt "clusterbridge==${VERSION}" \
 && groupadd --gid 10001 clusterbridge \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin clusterbridge
# JSON logs for the collector; the operator endpoints on every interface of the container (the port is only
# reachable where it is published); and no ledger that would vanish with the container: without
# CLUSTERBRIDGE_DATABASE_URL (or with a SQLite file outside a mounted volume) every command that opens the
# ledger exits 2 saying what to set. The simulators and the demo need no ledger and still run.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CLUSTERBRIDGE_LOG_FORMAT=json \
    CLUSTERBRIDGE_HTTP_HOST=0.0.0.0 \
    CLUSTERBRIDGE_HTTP_PORT=9464 \
    CLUSTERBRIDGE_REQUIRE_DATABASE_URL=1
EXPOSE 9464
# /healthz answers 200 while the scheduler runs; no curl in a slim image, so the standard library asks (on
# loopback: keep CLUSTERBRIDGE_HTTP_HOST at 0.0.0.0 or 127.0.0.1 in a container)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CLUSTERBRIDGE_HTTP_PORT', '9464'), timeout=4)"]
USER 10001:10001
WORKDIR /home/clusterbridge
# SIGTERM lets the run in flight finish its batch (give the container a stop timeout of a minute or two)
STOPSIGNAL SIGTERM
ENTRYPOINT ["clusterbridge"]
CMD ["daemon"]
