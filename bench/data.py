"""The benchmark's databases and data: a fresh SQLite file or PostgreSQL database, migrated and seeded.

Seeded:
- `CHAT_USERS` users with one conversation each: the chat load goes round-robin over them, so
  concurrent turns are of different users and conversations, as in real traffic;
- a user with `SHORT_CONVERSATIONS` conversations of 10 stored items, and one with
  `LONG_CONVERSATIONS` conversations of 10,000 items: turn latency against history length;
- a user with 10 todos and one with 100,000: `list_todos` against list length.
Rows are bulk-inserted in the shapes the service stores (`memory.message_values`), then the tables are analysed
(on PostgreSQL `VACUUM ANALYZE`, which autovacuum would do on a live database).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.load import Target
from service.agent.memory import message_values
from service.db import Database
from service.migrate import upgrade
from service.models import AgentMessage, AgentSession, User

SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
CHAT_USERS = 64
SHORT_CONVERSATIONS = 200
LONG_CONVERSATIONS = 4
SHORT_ITEMS = 10
LONG_ITEMS = 10_000
FEW_TODOS = 10
MANY_TODOS = 100_000
CHAT_MESSAGE = "add buy milk"
_BATCH = 5_000


def token(user_id: uuid.UUID, hours: int = 2) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": str(user_id), "iat": now, "exp": now + timedelta(hours=hours)}, SECRET, "HS256")


def chat_target(user_id: uuid.UUID, conversation_id: uuid.UUID, message: str = CHAT_MESSAGE) -> Target:
    body = json.dumps({"message": message, "conversation_id": str(conversation_id)})
    return Target("POST", f"/api/{user_id}/chat", token(user_id), body)


@dataclass
class Dataset:
    url: str
    label: str
    chat: list[Target] = field(default_factory=list)
    alternative_chat: list[Target] = field(default_factory=list)
    short_history: list[Target] = field(default_factory=list)
    long_history: list[Target] = field(default_factory=list)
    chat_user: uuid.UUID = field(default_factory=uuid.uuid4)
    few_todos_user: uuid.UUID = field(default_factory=uuid.uuid4)
    many_todos_user: uuid.UUID = field(default_factory=uuid.uuid4)
    seed_s: float = 0.0


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg's conninfo."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database(base_url: str, name: str) -> str:
    """A new, empty database on `base_url`'s server (dropped first if left over); its async URL."""
    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(drivername="postgresql+psycopg", database=name).render_as_string(False)


def reset_postgres_database(url: str) -> str:
    """Empty `url`'s database in place (its `public` schema dropped and made anew); its async URL.

    For a server where the benchmark may use one database but not create others (`BENCH_IN_PLACE=1`).
    """
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def drop_postgres_database(base_url: str, name: str) -> None:
    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def _history_items(count: int) -> list[dict[str, Any]]:
    """`count` stored items, as tool turns of four ("add task N": call, output, answer), plus a
    greeting exchange of two when `count` is not a multiple of four."""
    items: list[dict[str, Any]] = []
    if count % 4:
        items += [
            {"role": "user", "content": "hi"},
            _answer("Hello! I can add, list, complete and delete your todos."),
        ]
    for n in range(count // 4):
        call_id = f"call_seed{n:08d}"
        title = f"Task {n}"
        items += [
            {"role": "user", "content": f"add task {n}"},
            {
                "type": "function_call",
                "call_id": call_id,
                "name": "add_todo",
                "arguments": json.dumps({"title": title, "description": None, "due_date": None}),
                "status": "completed",
            },
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": json.dumps(
                    {"todo": {"id": str(uuid.uuid4()), "title": title, "description": None, "completed": False}}
                ),
            },
            _answer(f'Added "{title}".'),
        ]
    return items[:count]


def _answer(text_: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text_, "annotations": []}],
    }


def _table(model: type[Any]) -> Any:
    return model.__table__


def _columns(row: Any, table: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in table.columns if c.name != "seq"}


async def _insert(database: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    async with database.engine.begin() as conn:
        for start in range(0, len(rows), _BATCH):
            await conn.execute(insert(table), rows[start : start + _BATCH])


async def _seed(dataset: Dataset) -> None:
    database = Database(dataset.url)
    now = datetime.now(UTC)
    short_user, long_user = uuid.uuid4(), uuid.uuid4()
    chat_users = [uuid.uuid4() for _ in range(CHAT_USERS)]
    users = [*chat_users, short_user, long_user, dataset.few_todos_user, dataset.many_todos_user]
    await _insert(database, _table(User), [{"id": u, "created_at": now} for u in users])

    sessions: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []

    def conversation(user_id: uuid.UUID, items: int) -> uuid.UUID:
        session = AgentSession(user_id=user_id, title="benchmark")
        sessions.append(_columns(session, _table(AgentSession)))
        for item in _history_items(items):
            messages.append(message_values(item, session.id, user_id))
        return session.id

    for user_id in chat_users:
        dataset.chat.append(chat_target(user_id, conversation(user_id, 0)))
        # The alternative keeps its memory in the SDK's own tables: a conversation id of its own.
        dataset.alternative_chat.append(chat_target(user_id, uuid.uuid4()))
    dataset.chat_user = chat_users[0]
    dataset.short_history = [
        chat_target(short_user, conversation(short_user, SHORT_ITEMS)) for _ in range(SHORT_CONVERSATIONS)
    ]
    # One long conversation is built here; the others are copies made by the database (much faster).
    first_long = conversation(long_user, LONG_ITEMS)
    copies = [conversation(long_user, 0) for _ in range(LONG_CONVERSATIONS - 1)]
    dataset.long_history = [chat_target(long_user, c) for c in [first_long, *copies]]
    await _insert(database, _table(AgentSession), sessions)
    await _insert(database, _table(AgentMessage), messages)
    postgres = database.engine.dialect.name == "postgresql"
    async with database.engine.begin() as conn:
        for copy in copies:
            await conn.execute(
                _copy_messages(postgres), {"source": _key(first_long, postgres), "target": _key(copy, postgres)}
            )
        for user_id, count in ((dataset.few_todos_user, FEW_TODOS), (dataset.many_todos_user, MANY_TODOS)):
            await conn.execute(_todos(postgres), {"user_id": _key(user_id, postgres), "count": count})
    await database.dispose()


def _key(value: uuid.UUID, postgres: bool) -> Any:
    """A UUID as raw SQL compares it: native on PostgreSQL, 32 hex digits on SQLite (SQLAlchemy's `Uuid`)."""
    return value if postgres else value.hex


_MESSAGE_COLUMNS = "session_id, user_id, role, kind, content, tool_name, call_id, item, created_at"


def _copy_messages(postgres: bool) -> Any:
    new_id = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    columns = _MESSAGE_COLUMNS.replace("session_id, ", "")
    return text(
        f"INSERT INTO agent_messages (id, {_MESSAGE_COLUMNS}) SELECT {new_id}, :target, {columns} "
        "FROM agent_messages WHERE session_id = :source ORDER BY seq"
    )


def _todos(postgres: bool) -> Any:
    """`count` todos for a user, one a second up to now, every third done, made by the database."""
    if postgres:
        return text(
            "INSERT INTO tasks (id, user_id, title, completed, created_at, updated_at) "
            "SELECT gen_random_uuid(), :user_id, 'Todo ' || n, n % 3 = 0, t, t "
            "FROM generate_series(0, :count - 1) AS n, "
            "LATERAL (SELECT now() - make_interval(secs => :count - n) AS t) AS at"
        )
    # SQLAlchemy stores SQLite timestamps as text with six fractional digits.
    return text(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :count) "
        "INSERT INTO tasks (id, user_id, title, completed, created_at, updated_at) "
        "SELECT lower(hex(randomblob(16))), :user_id, 'Todo ' || n, n % 3 = 0, t, t FROM "
        "(SELECT n, datetime('now', '-' || (:count - n) || ' seconds') || '.000000' AS t FROM seq)"
    )


async def _analyse(url: str) -> None:
    database = Database(url)
    if database.engine.dialect.name == "postgresql":
        async with database.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with database.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    await database.dispose()


def prepare(url: str, label: str) -> Dataset:
    """Migrate `url` (an empty database) and seed it."""
    import time

    started = time.perf_counter()
    upgrade(url)
    dataset = Dataset(url=url, label=label)
    asyncio.run(_seed(dataset))
    asyncio.run(_analyse(url))
    dataset.seed_s = time.perf_counter() - started
    return dataset
