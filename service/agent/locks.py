"""One turn at a time per conversation, within a bound.

In a process, an `asyncio.Lock` per conversation queues its turns. On PostgreSQL a session-level
advisory lock, taken on a connection held for the turn, extends that to every worker and replica.
Different conversations never wait for each other. A turn that cannot get its lock within the bound
gets 409, rather than piling up behind a slow one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from service.db import Database
from service.errors import Conflict

log = logging.getLogger(__name__)

POLL_S = 0.02
BUSY = "this conversation is busy with another turn; try again in a moment"


def advisory_key(conversation_id: uuid.UUID) -> int:
    """A signed 64-bit key, as `pg_advisory_lock(bigint)` takes."""
    return int.from_bytes(conversation_id.bytes[:8], "big", signed=True)


class ConversationLocks:
    def __init__(self, database: Database, timeout_s: float) -> None:
        self._database = database
        self.timeout_s = timeout_s
        self._local: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock_for(self, conversation_id: uuid.UUID) -> asyncio.Lock:
        lock = self._local.get(conversation_id)
        if lock is None:
            lock = self._local[conversation_id] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def hold(self, conversation_id: uuid.UUID) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        lock = self._lock_for(conversation_id)
        try:
            await asyncio.wait_for(lock.acquire(), self.timeout_s)
        except TimeoutError:
            raise Conflict(BUSY) from None
        try:
            if self._database.engine.dialect.name == "postgresql":
                async with self._advisory(conversation_id, deadline):
                    yield
            else:
                yield
        finally:
            lock.release()

    @asynccontextmanager
    async def _advisory(self, conversation_id: uuid.UUID, deadline: float) -> AsyncIterator[None]:
        key = {"key": advisory_key(conversation_id)}
        loop = asyncio.get_running_loop()
        async with self._database.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            while not (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key)).scalar_one():
                if loop.time() >= deadline:
                    raise Conflict(BUSY)
                await asyncio.sleep(POLL_S)
            try:
                yield
            finally:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                except Exception:
                    # PostgreSQL drops a session's advisory locks with the session: make sure it ends.
                    log.warning("advisory unlock failed; discarding the connection", exc_info=True)
                    await conn.invalidate()
