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
from typing import Any

from agents.items import TResponseInputItem
from sqlalchemy import Table, insert, update
from sqlmodel import col, delete, select

from service.db import Database
from service.models import AgentMessage, AgentSession, utcnow

# Reading a few rows past the limit lets the window start on a clean boundary without a second query.
_BOUNDARY_SLACK = 8


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "".join(parts) or None
    return None


def message_values(item: dict[str, Any], session_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
    """The `agent_messages` columns of one SDK item (all but `seq`); `item` itself is stored untouched."""
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
        values.update(tool_name=item.get("name"), call_id=item.get("call_id"), content=item.get("arguments"))
    elif kind == "function_call_output":
        output = item.get("output")
        values.update(role="tool", call_id=item.get("call_id"))
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

    session_settings = None

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
        """The latest `limit` items, oldest first, never splitting a tool call from its output."""
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

    async def save_turn(self, items: list[TResponseInputItem], last_id: uuid.UUID | None = None) -> list[StoredItem]:
        """Store a turn's items in one transaction and touch the conversation; returns what was stored.

        One multi-row INSERT (numbered by the database, in order) and one UPDATE, without ORM objects.
        `last_id` is the id the last item (the answer) gets: the turn allocated it before its tools ran.
        """
        values = [message_values(dict(item), self.conversation_id, self.user_id) for item in items]
        if last_id is not None and values:
            values[-1]["id"] = last_id
        # The table, not the entity: an ORM insert would split the rows by which columns are null.
        table: Table = AgentMessage.__table__  # type: ignore[attr-defined]
        insert_rows = insert(table).returning(table.c.seq, sort_by_parameter_order=True)
        async with self._database.session() as db:
            seqs = (await db.exec(insert_rows, params=values)).scalars().all()
            await db.exec(
                update(AgentSession).where(col(AgentSession.id) == self.conversation_id).values(updated_at=utcnow())
            )
            await db.commit()
        return [StoredItem(seq=seq, **{k: v[k] for k in _STORED}) for seq, v in zip(seqs, values, strict=True)]

    async def stored_call_ids(self) -> set[str]:
        """The call ids of the tool calls and outputs this conversation holds (a resumed run's are new)."""
        query = select(AgentMessage.call_id).where(*self._mine(), col(AgentMessage.call_id).is_not(None))
        async with self._database.reader() as db:
            return {str(call_id) for call_id in (await db.exec(query)).all()}

    async def pop_item(self) -> TResponseInputItem | None:
        async with self._database.session() as db:
            last = (
                await db.exec(select(AgentMessage).where(*self._mine()).order_by(col(AgentMessage.seq).desc()).limit(1))
            ).first()
            if last is None:
                return None
            await db.delete(last)
            await db.commit()
        return last.item  # type: ignore[return-value]

    async def clear_session(self) -> None:
        async with self._database.session() as db:
            await db.exec(delete(AgentMessage).where(*self._mine()))
            await db.commit()
