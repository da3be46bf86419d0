"""`POST /api/{user_id}/chat` over HTTP with the offline model: turns, memory, history and bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.models import AgentMessage, AgentSession
from tests.api.helpers import chat


async def stored_row_count(database: Database) -> int:
    async with database.session() as db:
        return len((await db.exec(select(AgentMessage))).all()) + len((await db.exec(select(AgentSession))).all())


async def test_add_list_and_complete_by_reference(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    added = await chat(client, alice, alice_auth, "add buy milk")
    assert added["using_stub"] is True and added["model"] == "offline"
    assert [c["name"] for c in added["tool_calls"]] == ["add_todo"]
    assert "milk" in added["response"].lower()
    assert added["guardrail"] is None
    assert len(added["trace_id"]) == 32 and int(added["trace_id"], 16) != 0
    conversation = added["conversation_id"]

    listed = await chat(client, alice, alice_auth, "show my todos", conversation)
    assert [c["name"] for c in listed["tool_calls"]] == ["list_todos"]
    assert "milk" in listed["response"].lower()

    done = await chat(client, alice, alice_auth, "I bought the milk", conversation)
    assert [c["name"] for c in done["tool_calls"]] == ["list_todos", "update_todo"]
    assert done["tool_calls"][1]["arguments"]["completed"] is True
    assert done["tool_results"][1]["output"]["todo"]["completed"] is True

    todos = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    assert [(t["title"].lower(), t["completed"]) for t in todos] == [("buy milk", True)]


async def test_history_endpoint_shows_the_turns_with_tool_activity(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    first = await chat(client, alice, alice_auth, "add buy milk")
    history = (await client.get(f"/api/{alice}/conversations/{first['conversation_id']}", headers=alice_auth)).json()
    kinds = [(m["role"], m["kind"]) for m in history["messages"]]
    assert kinds == [
        ("user", "message"),
        ("assistant", "function_call"),
        ("tool", "function_call_output"),
        ("assistant", "message"),
    ]
    call, result = history["messages"][1], history["messages"][2]
    assert call["tool_name"] == "add_todo" and call["arguments"]["title"].lower() == "buy milk"
    assert result["call_id"] == call["call_id"] and result["output"]["todo"]["title"].lower() == "buy milk"
    assert history["messages"][-1]["content"] == first["response"]
    assert history["messages"][-1]["id"] == first["message_id"]


async def test_history_survives_a_restart(
    settings: Settings, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    async def with_fresh_app(message: str, conversation_id: Any = None) -> dict[str, Any]:
        app: FastAPI = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await chat(http, alice, alice_auth, message, conversation_id)

    first = await with_fresh_app("add eggs")
    # A new process: "it" can only be resolved from the stored conversation.
    second = await with_fresh_app("actually remove it", first["conversation_id"])
    assert [c["name"] for c in second["tool_calls"]][-1] == "delete_todo"
    assert "eggs" in second["response"].lower()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message": ""}, 422, "validation_error"),
        ({"message": "   "}, 422, "validation_error"),
        ({"message": "\u200b"}, 422, "validation_error"),  # was a turn, and the conversation's title
        ({"message": "\u3164 \ufeff"}, 422, "validation_error"),  # a Hangul filler draws nothing either
        ({"message": "\u2800\u034f\ufe0f"}, 422, "validation_error"),  # braille blank, a joiner, a selector
        ({"message": "\u0301\u0302"}, 422, "validation_error"),  # marks with no letter to sit on
        ({"message": "x" * 10_001}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"message": 42}, 422, "validation_error"),
        ({"message": "hi", "conversation_id": "not-a-uuid"}, 422, "validation_error"),
        ({"message": "hi", "extra": True}, 422, "validation_error"),
        ({"message": "hi", "conversation_id": str(uuid.uuid4())}, 404, "not_found"),
    ],
)
async def test_bad_chat_input_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    database: Database,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = await client.post(f"/api/{alice}/chat", json=body, headers=alice_auth)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert await stored_row_count(database) == 0


async def test_malformed_json_is_a_400(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], database: Database
) -> None:
    response = await client.post(
        f"/api/{alice}/chat",
        content=b'{"message": "add milk"',
        headers={**alice_auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_json", "message": "request body is not valid JSON"}}
    assert await stored_row_count(database) == 0


async def test_exactly_10000_characters_is_accepted(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    body = await chat(client, alice, alice_auth, "a" * 10_000)
    assert body["response"]


async def test_another_users_conversation_is_not_found(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    database: Database,
) -> None:
    mine = await chat(client, alice, alice_auth, "add buy milk")
    before = await stored_row_count(database)
    response = await client.post(
        f"/api/{bob}/chat",
        json={"message": "show my todos", "conversation_id": mine["conversation_id"]},
        headers=bob_auth,
    )
    assert response.status_code == 404
    assert "milk" not in response.text.lower()
    assert await stored_row_count(database) == before


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not.a.jwt"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
async def test_chat_needs_a_valid_token(
    client: httpx.AsyncClient, alice: uuid.UUID, database: Database, headers: dict[str, str], status: int
) -> None:
    response = await client.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "unauthorized"
    assert await stored_row_count(database) == 0


@pytest.mark.parametrize("path_user", ["bob", "not-a-uuid"])
async def test_chat_for_another_path_user_is_forbidden(
    client: httpx.AsyncClient, alice_auth: dict[str, str], bob: uuid.UUID, database: Database, path_user: str
) -> None:
    target = bob if path_user == "bob" else path_user
    response = await client.post(f"/api/{target}/chat", json={"message": "add milk"}, headers=alice_auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert await stored_row_count(database) == 0
