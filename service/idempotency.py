"""`Idempotency-Key` for chat: a retried request gets the first result and runs nothing twice.

The first request claims the key with an insert (the primary key decides the race, across workers
and replicas); a concurrent retry waits for the stored result within a bound, then gets 409. A failed
first request releases its key, so the retry really runs. A key is kept 24 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from service.db import Database
from service.errors import Conflict, ServiceError
from service.models import IdempotencyRecord, utcnow

KEY_MAX = 200
POLL_S = 0.05


class IdempotencyMismatch(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The right, and the duty, to run a keyed request: `complete` with its result or `release` the key."""

    store: IdempotencyStore
    user_id: uuid.UUID
    key: str

    async def complete(self, response: dict[str, Any]) -> None:
        async with self.store.database.session() as db:
            record = await db.get(IdempotencyRecord, (self.user_id, self.key))
            if record is not None:
                record.status_code, record.response = 200, response
                db.add(record)
                await db.commit()

    async def release(self) -> None:
        """Forget the key after a failure, so the client's retry really runs."""
        async with self.store.database.session() as db:
            await db.exec(
                delete(IdempotencyRecord).where(
                    col(IdempotencyRecord.user_id) == self.user_id, col(IdempotencyRecord.key) == self.key
                )
            )
            await db.commit()


class IdempotencyStore:
    def __init__(self, database: Database, wait_s: float = 30.0, ttl: timedelta = timedelta(hours=24)) -> None:
        self.database = database
        self.wait_s = wait_s
        self.ttl = ttl

    async def claim(self, user_id: uuid.UUID, key: str, fingerprint: str) -> Claim | dict[str, Any]:
        """A `Claim` for the first request with this key; for a retry, the first request's response.

        A retry that arrives while the first request runs waits for its response within `wait_s`.
        """
        if await self._insert(user_id, key, fingerprint):
            return Claim(self, user_id, key)
        return await self._wait_for_response(user_id, key, fingerprint)

    async def _insert(self, user_id: uuid.UUID, key: str, fingerprint: str) -> bool:
        insert = pg_insert if self.database.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(IdempotencyRecord)
            .values(user_id=user_id, key=key, request_hash=fingerprint, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(col(IdempotencyRecord.key))
        )
        async with self.database.session() as db:
            claimed = (await db.exec(statement)).first() is not None
            if claimed:  # expired keys go as new ones arrive; the index on created_at keeps it cheap
                await db.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - self.ttl))
            await db.commit()
        return claimed

    async def _wait_for_response(self, user_id: uuid.UUID, key: str, fingerprint: str) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + self.wait_s
        while True:
            async with self.database.session() as db:
                record = await db.get(IdempotencyRecord, (user_id, key))
            if record is None:  # the first request failed and let its key go
                raise Conflict("the first request with this Idempotency-Key failed; send it again")
            if record.request_hash != fingerprint:
                raise IdempotencyMismatch("this Idempotency-Key was used for a different request")
            if record.response is not None:
                return record.response
            if asyncio.get_running_loop().time() >= deadline:
                raise Conflict("a request with this Idempotency-Key is still running; retry later")
            await asyncio.sleep(POLL_S)
