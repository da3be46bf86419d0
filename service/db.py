"""The async engine and session factory, one per process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

POOL_SIZE = 30


def make_engine(database_url: str) -> AsyncEngine:
    # Called through its module, so the SQLAlchemy instrumentation's patch (`setup_telemetry`) traces the engine.
    create_async_engine = sqlalchemy_asyncio.create_async_engine
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # All 30 connections are kept once opened. With 10 kept and 20 "overflow" ones, every burst of turns
    # past 10 at once opened connections and closed them again as they came back: with 100 turns in
    # flight, one new PostgreSQL connection every 3-15 turns, each a few ms of CPU on both sides. The
    # most a worker can hold is the same 30 (docs/performance.md budgets connections per worker).
    engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0)
    event.listen(engine.sync_engine, "checkin", _checked_in)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


# A pooled connection that sat unused this long is pinged before use (and replaced if the database
# went away meanwhile). `pool_pre_ping` pinged on every checkout: a round trip each time, five or six
# per chat turn. A connection used a moment ago does not need one; if the database restarted within
# that moment, the statement fails like any statement during an outage, and SQLAlchemy then replaces
# every connection the pool holds.
IDLE_PING_S = 1.0


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < IDLE_PING_S:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
        dbapi_connection.rollback()  # the ping opened a transaction; its user may want autocommit
    except Exception as exc:
        raise DisconnectionError("the pooled connection failed its ping") from exc  # the pool connects anew
    finally:
        cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """Owns the engine; `session()` opens one unit of work."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # On PostgreSQL a read needs no transaction of its own: autocommit saves its BEGIN and ROLLBACK
        # round trips. SQLite reads stay as they are (switching its isolation level costs more than it saves).
        self._autocommitting = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._readers = (
            async_sessionmaker(self._autocommitting, class_=AsyncSession, expire_on_commit=False)
            if self.engine.dialect.name == "postgresql"
            else self._sessions
        )

    def sessionmaker(self) -> AsyncSession:
        """A new session the caller closes itself (`session()` closes it on leaving the block)."""
        return self._sessions()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (each statement sees the latest committed data); never commit in it."""
        async with self._readers() as session:
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which each statement commits by itself: for one statement that is its own transaction."""
        async with self._autocommitting.connect() as connection:
            yield connection

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
