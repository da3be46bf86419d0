"""Abuse limits: a per-user rate limit counted in the database, and a request body size cap.

The counter lives in the database so every worker and replica shares it; one upsert per limited
request is the whole cost.
"""

from __future__ import annotations

import math
import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_response
from service.db import Database
from service.errors import RateLimited
from service.models import RateLimitCounter


class RateLimiter:
    """Fixed-window counter per (bucket, window) row."""

    def __init__(self, database: Database, limit: int, window_s: int = 60) -> None:
        self._database = database
        self.limit = limit
        self.window_s = window_s

    async def hit(self, bucket: str) -> None:
        """Count one request; raise `RateLimited` with a Retry-After once the window's quota is spent."""
        if self.limit <= 0:
            return
        now = time.time()
        window = int(now // self.window_s)
        insert = pg_insert if self._database.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(RateLimitCounter)
            .values(bucket=bucket, window_start=window, count=1)
            .on_conflict_do_update(
                index_elements=["bucket", "window_start"], set_={"count": col(RateLimitCounter.count) + 1}
            )
            .returning(col(RateLimitCounter.count))
        )
        async with self._database.session() as db:
            count = (await db.exec(statement)).scalar_one()
            if count == 1:  # the first hit of a window clears the windows before it
                await db.exec(delete(RateLimitCounter).where(col(RateLimitCounter.window_start) < window - 1))
            await db.commit()
        if count > self.limit:
            raise RateLimited(max(1, math.ceil((window + 1) * self.window_s - now)))


class BodySizeLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, by header or by counting what arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException survives FastAPI's body parsing and reaches the error layer.
                    raise HTTPException(413, self._message)
            return message

        await self.app(scope, counted_receive, send)

    @property
    def _message(self) -> str:
        return f"request body over {self.max_bytes} bytes"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, "payload_too_large", self._message)(scope, receive, send)
