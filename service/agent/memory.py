"""Conversation memory: the SDK `Session` protocol over the `agent_messages` table.

Each SDK item is one row. `item` keeps the exact item, so replay is lossless; role, kind, content,
tool name and call id are copied out for the history API. A turn's items are written in one
transaction (`add_items`), so a conversation never holds half a turn.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from agents.items import TResponseInputItem
from sqlalchemy import update
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


def row_for(item: dict[str, Any], session_id: uuid.UUID, user_id: uuid.UUID) -> AgentMessage:
    """The queryable columns of one SDK item; `item` itself is stored untouched."""
    kind = item.get("type") or "message"
    row = AgentMessage(session_id=session_id, user_id=user_id, item=item, kind=kind, role="assistant")
    if kind == "message":
        row.role = "user" if item.get("role") == "user" else "assistant"
        row.content = _text_of(item.get("content"))
    elif kind == "function_call":
        row.tool_name, row.call_id, row.content = item.get("name"), item.get("call_id"), item.get("arguments")
    elif kind == "function_call_output":
        row.role, row.call_id = "tool", item.get("call_id")
        output = item.get("output")
        row.content = output if isinstance(output, str) else json.dumps(output)
    return row


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
        async with self._database.session() as db:
            newest_first: list[dict[str, Any]] = [dict(item) for item in (await db.exec(query)).all()]
        items = complete_pairs(newest_first[::-1])
        if limit is not None and len(items) > limit:
            items = complete_pairs(items[-limit:])
        return items  # type: ignore[return-value]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        await self.save_turn(items)

    async def save_turn(self, items: list[TResponseInputItem]) -> list[AgentMessage]:
        """Store a turn's items in one transaction and touch the conversation; returns the rows."""
        rows = [row_for(dict(item), self.conversation_id, self.user_id) for item in items]
        async with self._database.session() as db:
            db.add_all(rows)
            await db.exec(
                update(AgentSession).where(col(AgentSession.id) == self.conversation_id).values(updated_at=utcnow())
            )
            await db.commit()
        return rows

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
