"""Database tables (DESIGN §5). The same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
EMAIL_MAX = 320  # the longest address RFC 5321 allows

# JSONB on Postgres (indexable, compact), plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, **kwargs)


def _user_fk() -> Any:
    return Field(sa_column_args=[ForeignKey("users.id", ondelete="CASCADE")], nullable=False, index=False)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(primary_key=True)
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    display_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = _timestamp()


_TASK_UPDATED_AT = Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    # Every write of a todo says which version it changes (`WHERE updated_at = <as read>`): of two requests that
    # read it at once, the second to write gets StaleDataError (409) rather than overwriting the first unseen,
    # which left the change log's "before" wrong and the change impossible to undo. The writer sets the value.
    __mapper_args__ = {"version_id_col": _TASK_UPDATED_AT, "version_id_generator": False}
    __table_args__ = (
        Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at"),
        # A page of the whole list in order, without sorting the list (`list_todos` with no filter).
        Index("ix_tasks_user_created", "user_id", "created_at", "id"),
        # Whose todo a title is (the output guardrail), without reading every user's todos.
        Index("ix_tasks_title_lower", text("lower(title)"), "user_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    title: str = Field(max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    completed: bool = False
    due_date: date | None = None
    created_at: datetime = _timestamp()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_TASK_UPDATED_AT)


class TodoCount(SQLModel, table=True):
    """How many todos a user has, and how many are done: the list's `total` without counting the list.

    Kept by database triggers on `tasks` (migration 0003), so every write counts, whatever makes it.
    """

    __tablename__ = "todo_counts"

    user_id: uuid.UUID = Field(sa_column_args=[ForeignKey("users.id", ondelete="CASCADE")], primary_key=True)
    total: int = 0
    done: int = 0


class UserContext(SQLModel, table=True):
    __tablename__ = "user_context"

    user_id: uuid.UUID = Field(sa_column_args=[ForeignKey("users.id", ondelete="CASCADE")], primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    preferences: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = _timestamp()


class AgentSession(SQLModel, table=True):
    """A conversation."""

    __tablename__ = "agent_sessions"
    __table_args__ = (Index("ix_agent_sessions_user_updated", "user_id", "updated_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    title: str | None = Field(default=None, max_length=200)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class AgentMessage(SQLModel, table=True):
    """One SDK item of a conversation; `item` is the exact SDK item, the other columns serve queries."""

    __tablename__ = "agent_messages"
    __table_args__ = (Index("ix_agent_messages_session_seq", "session_id", "seq"),)

    seq: int | None = Field(default=None, sa_column=Column(SeqType, primary_key=True, autoincrement=True))
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    session_id: uuid.UUID = Field(sa_column_args=[ForeignKey("agent_sessions.id", ondelete="CASCADE")], nullable=False)
    user_id: uuid.UUID = _user_fk()
    role: str = Field(sa_type=String(16))  # user | assistant | tool
    kind: str = Field(sa_type=String(32))  # message | function_call | function_call_output
    content: str | None = Field(default=None, sa_type=Text)
    tool_name: str | None = Field(default=None, max_length=128)
    call_id: str | None = Field(default=None, max_length=128)
    item: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    created_at: datetime = _timestamp()


class RateLimitCounter(SQLModel, table=True):
    """Requests per (bucket, fixed window), shared by every worker and replica through the database."""

    __tablename__ = "rate_limit_counters"

    bucket: str = Field(primary_key=True, max_length=200)
    window_start: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    count: int = 0


class IdempotencyRecord(SQLModel, table=True):
    """The first result of a chat request sent with an `Idempotency-Key`, replayed to its retries."""

    __tablename__ = "idempotency_keys"

    user_id: uuid.UUID = Field(sa_column_args=[ForeignKey("users.id", ondelete="CASCADE")], primary_key=True)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None  # None while the first request is still running
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    created_at: datetime = _timestamp(index=True)
    # Until when the claiming worker holds the key (it renews the lease while the turn runs); past it, a
    # retry takes the key over. None: claimed before leases existed, leased from `created_at`.
    lease_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=True)


class TodoChange(SQLModel, table=True):
    """One add, update or delete of a todo, with the todo before and after (DESIGN §5, §6a).

    Written in the transaction of the change it records (`service.todos`), so the log and the list
    never disagree. `todo_id` is not a foreign key: the log outlives a deleted todo, which is what
    lets a delete be undone. Agent changes carry the chat turn's conversation and message id.
    """

    __tablename__ = "todo_changes"
    __table_args__ = (
        Index("ix_todo_changes_user_created", "user_id", "created_at"),
        # Undo of a whole chat turn reads its changes by message id.
        Index("ix_todo_changes_message", "message_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    todo_id: uuid.UUID
    op: str = Field(sa_type=String(8))  # add | update | delete
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    conversation_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    created_at: datetime = _timestamp()
    reverted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=True)


class AgentApproval(SQLModel, table=True):
    """A turn paused for the user's yes: the SDK `RunState`, serialized, and the calls it waits on.

    Any worker, or the same one after a restart, resumes it from here. `decided_at` is set once, by a
    conditional UPDATE, so of two concurrent decisions exactly one wins.
    """

    __tablename__ = "agent_approvals"
    __table_args__ = (Index("ix_agent_approvals_conversation", "conversation_id", "decided_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    conversation_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("agent_sessions.id", ondelete="CASCADE")], nullable=False
    )
    state: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    calls: list[dict[str, Any]] = Field(sa_column=Column(JsonType, nullable=False))
    created_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=True)
