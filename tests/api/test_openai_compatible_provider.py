"""The agent driven by an OpenAI-compatible server over real HTTP, and the offline fallback when it fails."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import col, select

from service.db import Database
from service.models import AgentMessage
from tests.api.conftest import fake_provider_settings as settings  # noqa: F401  (the model is `fake`)
from tests.api.helpers import chat, parse_sse
from tests.fake_llm import ErrorReply, FakeLLM, TextReply, ToolCallReply

Events = list[tuple[str, Any]]


async def stored_items(database: Database, conversation_id: str) -> list[dict[str, Any]]:
    async with database.session() as db:
        rows = await db.exec(
            select(AgentMessage)
            .where(col(AgentMessage.session_id) == uuid.UUID(conversation_id))
            .order_by(col(AgentMessage.seq))
        )
        return [row.item for row in rows]


def assert_consistent(items: list[dict[str, Any]], user_messages: list[str]) -> None:
    """Each user message stored once, and every tool call paired with its output."""
    assert [i["content"] for i in items if i.get("role") == "user"] == user_messages
    calls = [i["call_id"] for i in items if i.get("type") == "function_call"]
    outputs = [i["call_id"] for i in items if i.get("type") == "function_call_output"]
    assert sorted(calls) == sorted(outputs)


async def test_provider_drives_the_tools_over_http(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM
) -> None:
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), TextReply("Added Buy milk.")]
    body = await chat(client, alice, alice_auth, "add buy milk")

    assert body["using_stub"] is False
    assert body["model"] == "fake-model"
    assert body["response"] == "Added Buy milk."
    assert [c["name"] for c in body["tool_calls"]] == ["add_todo"]
    assert body["tool_results"][0]["output"]["todo"]["title"] == "Buy milk"
    # The provider saw our tools, our instructions and, on its second call, the tool's output.
    first, second = fake.requests
    assert {t["function"]["name"] for t in first["tools"]} >= {"add_todo", "list_todos", "update_todo"}
    assert "todo-list assistant" in first["messages"][0]["content"]
    assert any(m["role"] == "tool" and "Buy milk" in m["content"] for m in second["messages"])

    todos = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    assert [t["title"] for t in todos] == ["Buy milk"]


async def test_history_is_sent_to_the_provider_on_the_next_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM
) -> None:
    fake.replies = [TextReply("Hello Ada."), TextReply("You said hello.")]
    first = await chat(client, alice, alice_auth, "hello, I am Ada")
    await chat(client, alice, alice_auth, "what did I say?", first["conversation_id"])
    contents = [m.get("content") for m in fake.requests[1]["messages"]]
    assert "hello, I am Ada" in contents and "Hello Ada." in contents


async def test_500_mid_turn_falls_back_to_the_offline_model(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, database: Database
) -> None:
    fake.replies = [TextReply("Hi! What should I add?")]
    first = await chat(client, alice, alice_auth, "hi")
    assert first["using_stub"] is False

    # The provider lists the todos, then fails: the offline model finishes from the tool output.
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), ErrorReply(500)]
    body = await chat(client, alice, alice_auth, "add buy milk", first["conversation_id"])
    assert body["using_stub"] is True
    assert body["model"] == "offline"
    assert "milk" in body["response"].lower()
    assert [c["name"] for c in body["tool_calls"]] == ["add_todo"]  # the fallback did not add it twice

    items = await stored_items(database, body["conversation_id"])
    assert_consistent(items, ["hi", "add buy milk"])
    todos = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    assert [t["title"] for t in todos] == ["Buy milk"]


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_and_unavailable_fall_back(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, status: int
) -> None:
    fake.replies = [ErrorReply(status)]
    body = await chat(client, alice, alice_auth, "add call mom")
    assert body["using_stub"] is True
    assert [c["name"] for c in body["tool_calls"]] == ["add_todo"]


async def test_stopped_server_falls_back(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    fake: FakeLLM,
    fake_server: uvicorn.Server,
    database: Database,
) -> None:
    fake.replies = [TextReply("Hi there.")]
    first = await chat(client, alice, alice_auth, "hello")

    fake_server.should_exit = True
    async with httpx.AsyncClient() as probe:
        for _ in range(100):  # until the port is closed
            try:
                await probe.get(fake.base_url, timeout=0.2)
            except httpx.TransportError:
                break
            await asyncio.sleep(0.05)
    body = await chat(client, alice, alice_auth, "show my todos", first["conversation_id"])
    assert body["using_stub"] is True
    assert [c["name"] for c in body["tool_calls"]] == ["list_todos"]
    assert_consistent(await stored_items(database, first["conversation_id"]), ["hello", "show my todos"])


async def test_a_4xx_from_the_provider_is_not_hidden_by_fallback(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, database: Database
) -> None:
    """A 400 means our request is wrong: falling back would mask a bug, so the turn fails cleanly."""
    fake.replies = [ErrorReply(400)]
    response = await client.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=alice_auth)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"
    assert "scripted failure" not in response.text
    async with database.session() as db:
        assert (await db.exec(select(AgentMessage))).all() == []  # a failed turn stores nothing


async def stream(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], message: str) -> Events:
    response = await client.post(f"/api/{user}/chat/stream", json={"message": message}, headers=auth)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)[0]


async def test_the_provider_streams_through_the_sdk(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM
) -> None:
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), TextReply("Added Buy milk to your list.")]
    events = await stream(client, alice, alice_auth, "add buy milk")

    names = [name for name, _ in events]
    assert names == ["conversation", "tool_call", "tool_result", *["delta"] * 6, "done"]
    done = events[-1][1]
    assert done["using_stub"] is False and done["model"] == "fake-model"
    assert "".join(data["text"] for name, data in events if name == "delta") == done["response"]
    assert done["response"] == "Added Buy milk to your list."
    assert all(request["stream"] is True for request in fake.requests)


@pytest.mark.parametrize(
    "script",
    [
        [ErrorReply(500)],  # the first model call fails
        [ToolCallReply("add_todo", {"title": "Call mom"}), ErrorReply(503)],  # the answer after the tool fails
    ],
)
async def test_a_provider_failure_while_streaming_falls_back(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    fake: FakeLLM,
    database: Database,
    script: list[Any],
) -> None:
    fake.replies = script
    events = await stream(client, alice, alice_auth, "add call mom")

    done = events[-1][1]
    assert events[-1][0] == "done" and done["using_stub"] is True and done["model"] == "offline"
    assert [data["name"] for name, data in events if name == "tool_call"] == ["add_todo"]  # not added twice
    assert "".join(data["text"] for name, data in events if name == "delta") == done["response"]
    assert "call mom" in done["response"].lower()
    assert_consistent(await stored_items(database, done["conversation_id"]), ["add call mom"])


async def test_a_streamed_reply_the_output_guardrail_blocks_ends_in_the_refusal(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bobs_todo: dict[str, Any],
    fake: FakeLLM,
    database: Database,
) -> None:
    """The deltas of a reply precede the output guardrail's verdict on it; the `guardrail` event then
    tells the client to replace them (the page does), and the blocked text is never stored."""
    secret = bobs_todo["title"]
    fake.replies = [TextReply(f'You have "{secret}" on your list.')]
    events = await stream(client, alice, alice_auth, "what is on my list?")

    names = [name for name, _ in events]
    assert names[0] == "conversation" and names[-2:] == ["guardrail", "done"]
    guardrail, done = events[-2][1], events[-1][1]
    assert guardrail["name"] == "output_scope" and done["guardrail"] == guardrail
    assert done["response"] == guardrail["message"] and secret not in done["response"]
    items = await stored_items(database, done["conversation_id"])
    assert secret not in str(items)
