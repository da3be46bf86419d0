"""Settings from the environment (and `.env`), validated once at start-up.

Invalid values fail fast with the variable's name, so a mistyped deployment never serves traffic.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")
DEV_SECRET_FILE = DATA_DIR / "dev_jwt_secret"
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    env: Literal["dev", "production"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # HTTP server limits (python -m service serve; the Dockerfile passes the same variables to uvicorn).
    # h11, not httptools: httptools bounds no header, so one unfinished 40 MB header cost a worker 40 MB.
    http_max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    # Connections plus in-flight requests per worker; beyond it uvicorn answers 503 at once.
    http_limit_concurrency: int = Field(default=1000, ge=10)
    # How long an idle keep-alive connection stays open. Longer than the idle timeout of whatever sends the
    # requests (httpx: 5 s, load balancers: 60 s), so that the client always closes it first: a server that
    # closes it first may do so just as a request is sent on it, which the client sees as a reset.
    http_keep_alive_s: int = Field(default=75, ge=1, le=3600)

    database_url: str = "sqlite+aiosqlite:///./data/app.db"
    migrate_on_start: bool = False

    auth_jwt_secret: str | None = None
    auth_jwks_url: str | None = None
    auth_audience: str | None = None
    auth_issuer: str | None = None
    auth_leeway_s: int = Field(default=30, ge=0, le=600)
    auth_jwks_timeout_s: float = Field(default=5.0, gt=0, le=60)  # one JWKS fetch, however many tokens wait

    model_provider: Literal["auto", "offline", "openai", "openai-compatible"] = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    agent_model: str | None = None
    agent_temperature: float | None = Field(default=None, ge=0, le=2)
    agent_max_tokens: int | None = Field(default=None, ge=1)
    agent_history_limit: int | None = Field(default=None, ge=2, le=1000)  # None: the spec's
    model_timeout_s: float = Field(default=30.0, gt=0, le=600)
    model_max_retries: int = Field(default=1, ge=0, le=10)
    # Which agent changes wait for the user's yes (DESIGN §6a): `bulk` deletes of more than one todo,
    # `always` every delete and every change of several todos, `never` none.
    agent_approval: Literal["bulk", "always", "never"] = "bulk"
    agent_approval_ttl_s: int = Field(default=86_400, ge=1, le=30 * 86_400)
    agents_trace_upload: bool = False  # also send Agents SDK traces to OpenAI (OTel export is separate)

    rate_limit_chat_per_minute: int = Field(default=60, ge=0)  # 0 turns the limit off
    max_request_bytes: int = Field(default=128 * 1024, ge=1024)
    conversation_lock_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # How long a claimed Idempotency-Key outlives its worker: renewed every third of it while the turn runs.
    idempotency_lease_s: float = Field(default=30.0, gt=0, le=3600)
    # Chat turns one worker runs at once; past it, new turns get 503 `overloaded` with Retry-After (0: no limit).
    # 100 is about what one core carries with a ~1 s model (docs/performance.md, "Many turns in flight").
    agent_max_inflight_turns: int = Field(default=100, ge=0, le=100_000)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the common sync spellings but always run on an async driver.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
            raise ValueError("must be sqlite+aiosqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> Settings:
        if self.env == "production" and not (self.auth_jwt_secret or self.auth_jwks_url):
            raise ValueError("AUTH_JWT_SECRET or AUTH_JWKS_URL must be set when ENV=production")
        if self.env == "production" and self.auth_jwt_secret and len(self.auth_jwt_secret.encode()) < MIN_SECRET_BYTES:
            # RFC 7518 3.2: an HS256 key shorter than the hash (32 bytes) can be brute-forced offline.
            raise ValueError(f"AUTH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes when ENV=production")
        if self.model_provider == "openai" and not self.openai_api_key:
            raise ValueError("OPENAI_API_KEY must be set when MODEL_PROVIDER=openai")
        if self.model_provider == "openai-compatible" and not self.openai_base_url:
            raise ValueError("OPENAI_BASE_URL must be set when MODEL_PROVIDER=openai-compatible")
        return self

    @property
    def resolved_provider(self) -> Literal["offline", "openai", "openai-compatible"]:
        if self.model_provider != "auto":
            return self.model_provider
        return "openai" if self.openai_api_key else "offline"

    web_concurrency: int | None = Field(default=None, ge=1, le=64)  # uvicorn workers of `serve` (WEB_CONCURRENCY)

    def worker_count(self) -> int:
        """How many workers `python -m service serve` starts unless told (`--workers`, `WEB_CONCURRENCY`).

        A turn waits on the model most of its time and needs the CPU for the rest (docs/performance.md:
        one worker carries what one core can), so on PostgreSQL one worker per usable core; more only
        adds memory (~200 MiB each), connections (31 each) and context switches. On SQLite one: its
        single writer serializes every turn's writes whatever the number of processes.
        """
        if self.web_concurrency:
            return self.web_concurrency
        if self.is_sqlite:
            return 1
        return max(1, len(os.sched_getaffinity(0)))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def jwt_secret(self) -> str | None:
        """The HS256 secret; in dev with none configured, one is made once under ./data/ (0600)."""
        if self.auth_jwt_secret or self.auth_jwks_url:
            return self.auth_jwt_secret
        return dev_secret()


def dev_secret() -> str:
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together agree on one secret.
    try:
        fd = os.open(DEV_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return DEV_SECRET_FILE.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
