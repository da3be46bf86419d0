"""The `agent_messages` session: lossless items, safe history windows, one transaction per turn."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from agents.memory import Session
from sqlmodel import func, select

from service.agent.memory import AgentMessageSession, complete_pairs
from service.db import Database
from service.errors import NotFound
from service.models import AgentMessage, AgentSession


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def answer(text: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def call(call_id: str, name: str = "list_todos", **args: Any) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": json.dumps(args)}


def output(call_id: str, payload: Any) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": json.dumps(payload)}


def tool_turn(n: int) -> list[dict[str, Any]]:
    """Six items: ask, two calls, their outputs, answer."""
    return [
        user(f"turn {n}"),
        call(f"call_{n}_a", "list_todos", completed=None),
        call(f"call_{n}_b", "add_todo", title=f"Item {n}"),
        output(f"call_{n}_a", {"todos": []}),
        output(f"call_{n}_b", {"todo": {"title": f"Item {n}"}}),
        answer(f"Added Item {n}"),
    ]


async def new_conversation(database: Database, user_id: uuid.UUID) -> AgentMessageSession:
    conversation = AgentSession(user_id=user_id, title="test")
    async with database.session() as db:
        db.add(conversation)
        await db.commit()
    return AgentMessageSession(database, user_id, conversation.id)


@pytest.fixture
async def memory(database: Database, user_id: uuid.UUID) -> AgentMessageSession:
    return await new_conversation(database, user_id)


def assert_no_orphans(items: list[dict[str, Any]]) -> None:
    calls = {i["call_id"] for i in items if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in items if i.get("type") == "function_call_output"}
    assert calls == outputs


async def test_is_an_sdk_session(memory: AgentMessageSession) -> None:
    assert isinstance(memory, Session)


async def test_items_round_trip_exactly(memory: AgentMessageSession) -> None:
    items = [*tool_turn(1)[:-1], answer('Added “Item 1” ✓ — unicode and "quotes" survive')]
    items[1]["id"] = "fc_123"  # provider-specific fields are kept too
    await memory.add_items(items)  # type: ignore[arg-type]
    assert await memory.get_items() == items


async def test_history_window_never_orphans_a_tool_output(memory: AgentMessageSession) -> None:
    # 10 turns x 6 items = 60 items; every window size cuts somewhere different.
    for n in range(10):
        await memory.add_items(tool_turn(n))  # type: ignore[arg-type]
    for limit in range(2, 25):
        window = await memory.get_items(limit=limit)
        assert len(window) <= limit
        assert window, f"limit {limit} gave an empty window"
        assert window[0].get("type") != "function_call_output"
        assert_no_orphans(window)  # type: ignore[arg-type]
    window = await memory.get_items(limit=20)
    assert dict(window[-1])["content"] == tool_turn(9)[-1]["content"]


async def test_complete_pairs_drops_both_kinds_of_orphan() -> None:
    items = [output("gone", {}), user("hi"), call("kept"), output("kept", {}), call("unanswered")]
    assert complete_pairs(items) == [user("hi"), call("kept"), output("kept", {})]


async def test_pop_and_clear(memory: AgentMessageSession) -> None:
    await memory.add_items([user("one"), answer("two")])  # type: ignore[list-item]
    popped = await memory.pop_item()
    assert popped is not None and dict(popped)["role"] == "assistant"
    assert await memory.get_items() == [user("one")]
    await memory.clear_session()
    assert await memory.get_items() == []
    assert await memory.pop_item() is None


async def test_conversations_and_users_are_isolated(
    memory: AgentMessageSession, database: Database, user_id: uuid.UUID
) -> None:
    await memory.add_items([user("mine")])  # type: ignore[list-item]
    other = AgentMessageSession(database, uuid.uuid4(), memory.conversation_id)
    assert await other.get_items() == []
    assert await other.pop_item() is None
    assert await memory.get_items() == [user("mine")]


async def test_rows_carry_queryable_columns(memory: AgentMessageSession) -> None:
    rows = await memory.save_turn([*tool_turn(1)[:-1], answer("done")])  # type: ignore[list-item]
    assert [(r.role, r.kind) for r in rows] == [
        ("user", "message"),
        ("assistant", "function_call"),
        ("assistant", "function_call"),
        ("tool", "function_call_output"),
        ("tool", "function_call_output"),
        ("assistant", "message"),
    ]
    assert rows[0].content == "turn 1"
    assert rows[1].tool_name == "list_todos" and rows[1].call_id == "call_1_a"
    assert rows[-1].content == "done"
    assert [r.seq for r in rows] == sorted(r.seq for r in rows if r.seq is not None)


async def test_a_first_turn_creates_its_conversation_with_its_items(database: Database, user_id: uuid.UUID) -> None:
    """One transaction (on PostgreSQL one statement): the conversation, titled after the message, and the items."""
    memory, items = AgentMessageSession(database, user_id, uuid.uuid4()), tool_turn(1)
    rows = await memory.save_turn(items, first_turn=True)  # type: ignore[arg-type]
    assert [r.call_id for r in rows] == [None, "call_1_a", "call_1_b", "call_1_a", "call_1_b", None]
    assert rows[0].content == "turn 1" and rows[-1].content == "Added Item 1"
    assert [r.seq for r in rows] == sorted(r.seq for r in rows if r.seq is not None) and len({r.seq for r in rows}) == 6
    assert await memory.get_items() == items
    async with database.reader() as db:
        conversation = await db.get(AgentSession, memory.conversation_id)
    assert conversation is not None and conversation.user_id == user_id and conversation.title == "turn 1"


async def test_a_first_turn_of_a_user_who_is_gone_stores_nothing(database: Database) -> None:
    memory = AgentMessageSession(database, uuid.uuid4(), uuid.uuid4())  # no such user: the conversation's key fails
    with pytest.raises(NotFound):
        await memory.save_turn([user("hello"), answer("hi")], first_turn=True)  # type: ignore[list-item]
    async with database.reader() as db:
        assert await db.get(AgentSession, memory.conversation_id) is None
        assert (await db.exec(select(func.count()).select_from(AgentMessage))).one() == 0


async def test_a_reply_with_nul_and_overlong_tool_names_is_stored(memory: AgentMessageSession) -> None:
    """Issue 13 item 8: PostgreSQL refuses NUL in text and JSONB, and a `tool_name` or `call_id` over the
    column's 128 characters; either lost the whole turn there (SQLite accepted both)."""
    long_id, long_name = "call_" + "x" * 300, "tool_" + "y" * 300
    items = [
        user("hi"),
        {"type": "function_call", "call_id": long_id, "name": long_name, "arguments": '{"title": "a\\u0000b"}'},
        {"type": "function_call_output", "call_id": long_id, "output": "out\x00put"},
        answer("Done\x00 with it"),
    ]
    rows = await memory.save_turn(items)  # type: ignore[arg-type]
    assert rows[-1].content == "Done\ufffd with it"
    assert rows[1].tool_name == long_name[:128] and rows[1].call_id == long_id[:128]
    stored = await memory.get_items()
    assert stored[1]["call_id"] == long_id and stored[1]["name"] == long_name  # type: ignore[typeddict-item]
    assert stored[2]["output"] == "out\ufffdput"  # type: ignore[typeddict-item]
    assert "\x00" not in json.dumps(stored)
