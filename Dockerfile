# clusterbridge service image: the daemon by default; any CLI command as arguments.
#   docker build -t clusterbridge .
#   docker run --env-file clusterbridge.env clusterbridge            # scheduled syncs
#   docker run --env-file clusterbridge.env clusterbridge sync --dry-run
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY connectors ./connectors
COPY mappings ./mappings
COPY migrations ./migrations
RUN pip install --no-cache-dir -c constraints.txt hatchling \
 && pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

FROM python:3.11-slim
COPY constraints.txt /tmp/constraints.txt
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl \
 && rm -rf /tmp/dist /tmp/constraints.txt \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin clusterbridge
USER clusterbridge
WORKDIR /home/clusterbridge
ENV CLUSTERBRIDGE_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["clusterbridge"]
CMD ["daemon"]
