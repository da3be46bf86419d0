"""One turn at a time per conversation, within a bound.

In a process, an `asyncio.Lock` per conversation queues its turns. On PostgreSQL a session-level
advisory lock, held for the turn, extends that to every worker and replica; the locks of all of a
process's turns live on one connection (`ProcessAdvisoryLocks`). Different conversations never wait
for each other. A turn that cannot get its lock within the bound gets 409, rather than piling up
behind a slow one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.db import Database
from service.errors import Conflict

log = logging.getLogger(__name__)

POLL_S = 0.02
BUSY = "this conversation is busy with another turn; try again in a moment"
TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")
UNLOCK_ALL = text("SELECT pg_advisory_unlock_all()")


def advisory_key(conversation_id: uuid.UUID) -> int:
    """A signed 64-bit key, as `pg_advisory_lock(bigint)` takes."""
    return int.from_bytes(conversation_id.bytes[:8], "big", signed=True)


class ProcessAdvisoryLocks:
    """The PostgreSQL advisory locks of all of this process's turns, on one connection.

    Why one connection: a connection per turn is held for the whole turn, model call included, while
    the turn takes more connections from the same pool for its history, tools and storage. With as
    many turns in flight as the pool has connections, each held one and waited for another until the
    pool gave up: 60 concurrent turns on one worker stalled 30 s, then 40 of them answered 503.
    Here a turn holds no connection while it runs; the shared one is taken from the pool while some
    lock is held and given back when none is. PostgreSQL's session locks are re-entrant, so a key
    already held here counts as busy: mutual exclusion holds inside the process too.
    A database restart takes the connection and all its locks with it: the next statement fails,
    the connection is replaced, and turns still running no longer hold a lock to release.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._held: set[int] = set()
        self._mutex = asyncio.Lock()  # one statement at a time on the shared connection
        # A lock statement was interrupted (cancelled, failed): the connection may hold a lock nobody tracks.
        self._unsure = False

    async def try_lock(self, key: int) -> bool:
        async with self._mutex:
            if key in self._held:
                return False
            reused = self._conn is not None
            try:
                taken = await self._execute(TRY_LOCK, key)
            except DBAPIError:
                if not reused:
                    raise
                # Open since before the database restarted: its locks are gone; a new connection may work.
                log.warning("the advisory lock connection failed; reconnecting")
                taken = await self._execute(TRY_LOCK, key)
            if taken:
                self._held.add(key)
            else:
                await self._release_if_idle()
            return taken

    async def unlock(self, key: int) -> None:
        async with self._mutex:
            if key not in self._held:
                return  # lost with a connection that failed since: PostgreSQL released it then
            self._held.discard(key)
            try:
                await self._execute(UNLOCK, key)
            except DBAPIError:
                log.warning("advisory unlock failed; the connection and its locks were discarded", exc_info=True)
                return
            await self._release_if_idle()

    async def _execute(self, statement: Any, key: int) -> bool:
        """Run a lock statement; on a database error the connection is discarded, with every lock on it."""
        if self._conn is None:
            conn = await self._engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            return bool((await self._conn.execute(statement, {"key": key})).scalar_one())
        except DBAPIError:
            await self._discard()
            raise
        except BaseException:
            self._unsure = True  # e.g. cancelled mid-statement: did the server take or release the lock?
            raise

    async def _release_if_idle(self) -> None:
        """Give the connection back to the pool once no turn holds a lock on it.

        `pg_advisory_unlock_all` first if a statement was cut by a cancellation: it could have left a
        lock nobody tracks, and a pooled connection must never carry one to its next user. (Only then:
        on every release it was a round trip per turn for nothing.)
        """
        if self._conn is None or self._held:
            return
        conn, self._conn = self._conn, None
        if self._unsure:
            self._unsure = False
            try:
                await conn.execute(UNLOCK_ALL)
            except DBAPIError:
                await conn.invalidate()
        await conn.close()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        self._held.clear()
        self._unsure = False
        if conn is not None:
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.debug("closing a failed advisory lock connection failed", exc_info=True)


class ConversationLocks:
    def __init__(self, database: Database, timeout_s: float) -> None:
        self._database = database
        self.timeout_s = timeout_s
        self._local: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()
        self._advisory_locks = ProcessAdvisoryLocks(database.engine)

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
        key = advisory_key(conversation_id)
        loop = asyncio.get_running_loop()
        while not await self._advisory_locks.try_lock(key):
            if loop.time() >= deadline:
                raise Conflict(BUSY)
            await asyncio.sleep(POLL_S)
        try:
            yield
        finally:
            await self._advisory_locks.unlock(key)
