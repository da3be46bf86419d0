"""The per-user rate limit, counted in the database (the request body size cap is HTTP's:
`service.api.body_limit`).

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
