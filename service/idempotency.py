"""`Idempotency-Key` for chat: a retried request gets the first result and runs nothing twice.

The first request claims the key with an insert (the primary key decides the race, across workers
and replicas); a concurrent retry waits for the stored result within a bound, then gets 409. A failed
first request releases its key, so the retry really runs. A key is kept 24 hours.

A claim is a lease: its worker renews it while the turn runs. A worker that dies mid-turn cannot
release its key, so once the lease has run out a retry takes the key over and runs the request
(before, the dead worker's claim stood for 24 hours and every retry got 409).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from service.db import Database
from service.errors import Conflict, ServiceError
from service.models import IdempotencyRecord, utcnow

KEY_MAX = 200
POLL_S = 0.05

log = logging.getLogger(__name__)


class IdempotencyMismatch(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class Claim:
    """The right, and the duty, to run a keyed request: `complete` with its result or `release` the key.

    Holding it renews the key's lease every third of the lease, until one of those is called.
    """

    def __init__(self, store: IdempotencyStore, user_id: uuid.UUID, key: str) -> None:
        self.store = store
        self.user_id = user_id
        self.key = key
        self._renewal = asyncio.create_task(self._renew(), name=f"idempotency lease {key}")

    def _where(self) -> list[Any]:
        return [col(IdempotencyRecord.user_id) == self.user_id, col(IdempotencyRecord.key) == self.key]

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.store.lease_s / 3)
            try:
                async with self.store.database.session() as db:
                    await db.exec(
                        update(IdempotencyRecord)
                        .where(*self._where(), col(IdempotencyRecord.status_code).is_(None))
                        .values(lease_until=utcnow() + timedelta(seconds=self.store.lease_s))
                    )
                    await db.commit()
            except Exception as exc:  # e.g. the database is briefly away: try again next time
                log.warning("renewing an idempotency lease failed: %s", type(exc).__name__)

    def stop_renewing(self) -> None:
        """Let the lease run out (what a worker that died does); `complete` and `release` call it."""
        self._renewal.cancel()

    async def complete(self, response: dict[str, Any]) -> None:
        self.stop_renewing()
        async with self.store.database.session() as db:
            record = await db.get(IdempotencyRecord, (self.user_id, self.key))
            if record is not None:
                record.status_code, record.response = 200, response
                db.add(record)
                await db.commit()

    async def release(self) -> None:
        """Forget the key after a failure, so the client's retry really runs."""
        self.stop_renewing()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewal
        async with self.store.database.session() as db:
            await db.exec(delete(IdempotencyRecord).where(*self._where()))
            await db.commit()


class IdempotencyStore:
    def __init__(
        self, database: Database, wait_s: float = 30.0, ttl: timedelta = timedelta(hours=24), lease_s: float = 30.0
    ) -> None:
        self.database = database
        self.wait_s = wait_s
        self.ttl = ttl
        self.lease_s = lease_s

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
            .values(
                user_id=user_id,
                key=key,
                request_hash=fingerprint,
                created_at=utcnow(),
                lease_until=utcnow() + timedelta(seconds=self.lease_s),
            )
            .on_conflict_do_nothing()
            .returning(col(IdempotencyRecord.key))
        )
        async with self.database.session() as db:
            claimed = (await db.exec(statement)).first() is not None
            if claimed:  # expired keys go as new ones arrive; the index on created_at keeps it cheap
                await db.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - self.ttl))
            await db.commit()
        return claimed

    async def _take_over(self, user_id: uuid.UUID, key: str, fingerprint: str) -> bool:
        """Claim a key whose lease ran out (its worker died); of several retries, exactly one wins.

        `status_code`, not `response`, tells a finished request: a JSON column stores None as JSON null,
        which SQL `IS NULL` does not match. The UPDATE re-checks the condition itself, so a renewal or
        another retry's takeover that lands first makes this one match no row.
        """
        now = utcnow()
        lease = timedelta(seconds=self.lease_s)
        lease_until, created_at = col(IdempotencyRecord.lease_until), col(IdempotencyRecord.created_at)
        statement = (
            update(IdempotencyRecord)
            .where(
                col(IdempotencyRecord.user_id) == user_id,
                col(IdempotencyRecord.key) == key,
                col(IdempotencyRecord.request_hash) == fingerprint,
                col(IdempotencyRecord.status_code).is_(None),
                or_(lease_until < now, and_(lease_until.is_(None), created_at < now - lease)),
            )
            .values(lease_until=now + lease)
            .returning(col(IdempotencyRecord.key))
        )
        async with self.database.session() as db:
            taken = (await db.exec(statement)).first() is not None
            await db.commit()
        if taken:
            log.warning("took over an idempotency key whose lease ran out (its first request's worker died?)")
        return taken

    async def _wait_for_response(self, user_id: uuid.UUID, key: str, fingerprint: str) -> Claim | dict[str, Any]:
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
            if await self._take_over(user_id, key, fingerprint):
                return Claim(self, user_id, key)
            if asyncio.get_running_loop().time() >= deadline:
                raise Conflict("a request with this Idempotency-Key is still running; retry later")
            await asyncio.sleep(POLL_S)
