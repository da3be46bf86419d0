# syntax=docker/dockerfile:1
# Build: uv resolves from the committed lock into /app/.venv. Run: a slim image, non-root, no build tools.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY service ./service
COPY agents ./agents
RUN uv sync --frozen --no-dev

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build --chown=app:app /app /app
USER app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite+aiosqlite:////app/data/app.db
RUN mkdir -p /app/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# h11 with a header-size bound, a connection limit and a keep-alive longer than a load balancer's idle timeout
# (README, Security and Settings): HTTP_MAX_HEADER_BYTES, HTTP_LIMIT_CONCURRENCY, HTTP_KEEP_ALIVE_S.
ENV HTTP_MAX_HEADER_BYTES=65536 HTTP_LIMIT_CONCURRENCY=1000 HTTP_KEEP_ALIVE_S=75
# `serve` migrates once, then starts its workers: one per core the container may use on PostgreSQL, one on
# SQLite (see docs/performance.md, "Workers"); WEB_CONCURRENCY=N overrides it, e.g. under a CPU quota, which
# the core count does not see. uvicorn's proxy headers are on by default (trusted from 127.0.0.1).
CMD ["python", "-m", "service", "serve"]
