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
    MIGRATE_ON_START=true \
    DATABASE_URL=sqlite+aiosqlite:////app/data/app.db
RUN mkdir -p /app/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# h11 with a header-size bound and a connection limit (README, Security): HTTP_MAX_HEADER_BYTES, HTTP_LIMIT_CONCURRENCY.
ENV HTTP_MAX_HEADER_BYTES=65536 HTTP_LIMIT_CONCURRENCY=1000
CMD ["sh", "-c", "exec uvicorn service.app:create_app --factory --host 0.0.0.0 --port 8000 --proxy-headers --http h11 --h11-max-incomplete-event-size \"$HTTP_MAX_HEADER_BYTES\" --limit-concurrency \"$HTTP_LIMIT_CONCURRENCY\""]
