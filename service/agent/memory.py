"""Conversation memory: the SDK `Session` protocol over the `agent_messages` table.

Each SDK item is one row. `item` keeps the exact item, so replay is lossless; role, kind, content,
tool name and call id are copied out for the history API. A turn's items are written in one
transaction (`add_items`), so a conversation never holds half a turn.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from agents.items import TResponseInputItem
from agents.memory import SessionSettings
from sqlalchemy import Table, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningUpdate
from sqlmodel import col, delete, select

from service import conversations
from service.db import Database
from service.errors import NotFound
from service.models import AgentMessage, AgentSession, utcnow

# Reading a few rows past the limit lets the window start on a clean boundary without a second query.
_BOUNDARY_SLACK = 8
# The width of the `tool_name` and `call_id` columns. PostgreSQL refuses a longer value (SQLite does not),
# which would lose the whole turn; the column is for queries, the item keeps the full value.
_NAME_MAX = 128
# PostgreSQL text and JSONB cannot hold NUL. A model may emit one; the turn must still be stored.
_NUL_STAND_IN = "\ufffd"
# A concurrent pop can take the row this one picked; it then picks again, a bounded number of times.
_POP_ATTEMPTS = 20


def without_nul(value: Any) -> Any:
    """`value` with every NUL in its strings replaced, so PostgreSQL (text, JSONB) stores it as SQLite does."""
    if isinstance(value, str):
        return value.replace("\x00", _NUL_STAND_IN) if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def _column_text(value: Any) -> str | None:
    return None if value is None else str(value)[:_NAME_MAX]


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "".join(parts) or None
    return None


def message_values(item: dict[str, Any], session_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
    """The `agent_messages` columns of one SDK item (all but `seq`); `item` itself is stored untouched
    but for NULs, which no PostgreSQL text column takes."""
    item = without_nul(item)
    kind = item.get("type") or "message"
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "session_id": session_id,
        "user_id": user_id,
        "role": "assistant",
        "kind": kind,
        "content": None,
        "tool_name": None,
        "call_id": None,
        "item": item,
        "created_at": utcnow(),
    }
    if kind == "message":
        values["role"] = "user" if item.get("role") == "user" else "assistant"
        values["content"] = _text_of(item.get("content"))
    elif kind == "function_call":
        values.update(
            tool_name=_column_text(item.get("name")),
            call_id=_column_text(item.get("call_id")),
            content=item.get("arguments"),
        )
    elif kind == "function_call_output":
        output = item.get("output")
        values.update(role="tool", call_id=_column_text(item.get("call_id")))
        values["content"] = output if isinstance(output, str) else json.dumps(output)
    return values


def complete_pairs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop tool calls whose output is missing from the window, and outputs whose call is.

    A model API rejects an orphan `function_call_output`, and a call without its output reads as
    unfinished work; both appear when a window's edge falls between a call and its output.
    """
    calls = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    outputs = {i.get("call_id") for i in items if i.get("type") == "function_call_output"}
    paired = calls & outputs
    return [
        i for i in items if i.get("type") not in ("function_call", "function_call_output") or i.get("call_id") in paired
    ]


_STORED = ("id", "role", "kind", "content", "tool_name", "call_id", "created_at")


@dataclass(frozen=True)
class StoredItem:
    """One item as `save_turn` stored it: its number in the conversation and its queryable columns."""

    seq: int
    id: uuid.UUID
    role: str
    kind: str
    content: str | None
    tool_name: str | None
    call_id: str | None
    created_at: datetime


class AgentMessageSession:
    """One user's conversation, as the SDK `Session` protocol."""

    session_settings: SessionSettings | None = None  # the protocol's; the history window is `get_items(limit)`

    def __init__(self, database: Database, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        self._database = database
        self.user_id = user_id
        self.conversation_id = conversation_id
        self.session_id = str(conversation_id)

    def _mine(self) -> list[Any]:
        return [
            col(AgentMessage.session_id) == self.conversation_id,
            col(AgentMessage.user_id) == self.user_id,
        ]

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The latest `limit` items, oldest first, never splitting a tool call from its output.

        `limit=None` is the whole history and `limit=0` none of it (`items[-0:]` would be all of it).
        """
        if limit is not None and limit < 0:
            raise ValueError("limit must be None or at least 0")
        if limit == 0:
            return []
        query = select(AgentMessage.item).where(*self._mine()).order_by(col(AgentMessage.seq).desc())
        if limit is not None:
            query = query.limit(limit + _BOUNDARY_SLACK)
        async with self._database.reader() as db:
            newest_first: list[dict[str, Any]] = [dict(item) for item in (await db.exec(query)).all()]
        items = complete_pairs(newest_first[::-1])
        if limit is not None and len(items) > limit:
            items = complete_pairs(items[-limit:])
        return items  # type: ignore[return-value]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        await self.save_turn(items)

    async def save_turn(
        self, items: list[TResponseInputItem], last_id: uuid.UUID | None = None, *, first_turn: bool = False
    ) -> list[StoredItem]:
        """Store a turn's items in one transaction with their conversation's row; returns what was stored.

        `first_turn`: the conversation is new, and is created here, titled after the turn's first item (the
        user's message); until this commits nobody can find it, so it never exists without its first turn.
        Otherwise the conversation is touched first, by the UPDATE that also proves it exists and is this
        user's: the memory holds that line itself rather than trusting its caller. The UPDATE also locks the
        row, so a concurrent delete of the conversation waits for the turn (and then removes it with the
        rest); a delete that came first makes this `NotFound`. Then one multi-row INSERT (numbered by the
        database, in order), without ORM objects.
        `last_id` is the id the last item (the answer) gets: the turn allocated it before its tools ran.
        """
        if not items:
            return []  # nothing to store, and an INSERT of no rows would insert a row of defaults
        values = [message_values(dict(item), self.conversation_id, self.user_id) for item in items]
        if last_id is not None and values:
            values[-1]["id"] = last_id
        # The table, not the entity: an ORM insert would split the rows by which columns are null.
        table: Table = AgentMessage.__table__  # type: ignore[attr-defined]
        insert_rows = insert(table).returning(table.c.seq, sort_by_parameter_order=True)
        first_message = values[0]["content"]
        creation = conversations.creation(self.user_id, first_message, self.conversation_id) if first_turn else None
        try:
            if creation is not None and self._database.engine.dialect.name == "postgresql":
                # One statement, a transaction by itself: the conversation's INSERT as a CTE of the items'.
                # It saves the BEGIN, the COMMIT and a round trip of a transaction (SQLite has no INSERT in a CTE).
                async with self._database.autocommit() as connection:
                    seqs = (await connection.execute(insert_rows.add_cte(creation.cte()), values)).scalars().all()
            else:
                async with self._database.session() as db:
                    if creation is not None:
                        await db.exec(creation)
                    elif (await db.exec(self._touch())).first() is None:
                        raise NotFound("no such conversation")
                    seqs = (await db.exec(insert_rows, params=values)).scalars().all()
                    await db.commit()
        except IntegrityError:
            # The conversation went between the UPDATE and the INSERT (SQLite has no row lock to hold it),
            # or, for a first turn, its user did.
            raise NotFound("no such conversation") from None
        return [StoredItem(seq=seq, **{k: v[k] for k in _STORED}) for seq, v in zip(seqs, values, strict=True)]

    def _touch(self) -> ReturningUpdate[tuple[uuid.UUID]]:
        """The UPDATE of the conversation's `updated_at` that also proves it exists and is this user's."""
        return (
            update(AgentSession)
            .where(col(AgentSession.id) == self.conversation_id, col(AgentSession.user_id) == self.user_id)
            .values(updated_at=utcnow())
            .returning(col(AgentSession.id))
        )

    async def stored_call_ids(self) -> set[str]:
        """The call ids of the tool calls and outputs this conversation holds (a resumed run's are new)."""
        query = select(AgentMessage.call_id).where(*self._mine(), col(AgentMessage.call_id).is_not(None))
        async with self._database.reader() as db:
            return {str(call_id) for call_id in (await db.exec(query)).all()}

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the latest item; concurrent pops each get a different item.

        The DELETE names the row it picked, so of two pops that picked the same row only one deletes it
        and gets it back; the other picks again.
        """
        table: Table = AgentMessage.__table__  # type: ignore[attr-defined]
        latest = select(func.max(AgentMessage.seq)).where(*self._mine())
        for _ in range(_POP_ATTEMPTS):
            async with self._database.session() as db:
                seq = (await db.exec(latest)).first()
                if seq is None:
                    await db.commit()
                    return None
                taken = delete(table).where(table.c.seq == seq, *self._mine()).returning(table.c.item)
                item = (await db.exec(taken)).scalars().first()
                await db.commit()
            if item is not None:
                return cast(TResponseInputItem, item)
        raise RuntimeError("pop_item kept losing the race for the latest item")

    async def clear_session(self) -> None:
        async with self._database.session() as db:
            await db.exec(delete(AgentMessage).where(*self._mine()))
            await db.commit()
