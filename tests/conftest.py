"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
import uvicorn
from sqlalchemy import text

from service.agent.context import TurnContext
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import User
from tests.fake_llm import FakeLLM, serve_fake_llm

# Children first, so deleting never trips a foreign key.
TABLES = (
    "agent_approvals",
    "todo_changes",
    "agent_messages",
    "agent_sessions",
    "tasks",
    "user_context",
    "idempotency_keys",
    "rate_limit_counters",
    "users",
)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = Settings(database_url=url).database_url  # normalise to the async driver
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture
def fake() -> FakeLLM:
    """A scripted OpenAI-compatible model (tests/fake_llm.py); `fake_server` serves it over HTTP."""
    return FakeLLM()


@pytest.fixture
async def fake_server(fake: FakeLLM) -> AsyncIterator[uvicorn.Server]:
    async with serve_fake_llm(fake) as server:
        yield server


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    async with db.engine.begin() as conn:
        for table in TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
    await db.dispose()


async def new_user(database: Database) -> uuid.UUID:
    new_id = uuid.uuid4()
    async with database.session() as db:
        db.add(User(id=new_id))
        await db.commit()
    return new_id


@pytest.fixture
async def user_id(database: Database) -> uuid.UUID:
    return await new_user(database)


@pytest.fixture
def turn_context(database: Database, user_id: uuid.UUID) -> TurnContext:
    return TurnContext(user_id=user_id, db=database, today=date(2026, 11, 24), timezone="Europe/London")
