"""Undo in chat ("undo that", "put it back") through the change log, the SSE `approval` event and the
streamed approvals route, expiry, and the `always` / `never` policies, over HTTP with the offline model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from service.app import create_app
from service.db import Database
from service.models import AgentApproval, utcnow
from tests.api.conftest import app_settings
from tests.api.helpers import assert_error, chat, parse_sse


async def _titles(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> list[tuple[str, bool]]:
    todos = (await client.get(f"/api/{user}/todos", headers=auth)).json()["todos"]
    return [(t["title"], t["completed"]) for t in todos]


async def _add(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], *titles: str) -> None:
    for title in titles:
        assert (await client.post(f"/api/{user}/todos", json={"title": title}, headers=auth)).status_code == 201


async def test_undo_in_chat_reverts_the_latest_turn_with_changes_and_logs_itself(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    await _add(client, alice, alice_auth, "Buy milk", "Call mom")
    done = await chat(client, alice, alice_auth, "I bought the milk")
    conversation = done["conversation_id"]
    await chat(client, alice, alice_auth, "show my list", conversation)  # changes nothing
    undone = await chat(client, alice, alice_auth, "undo that", conversation)
    assert [c["name"] for c in undone["tool_calls"]] == ["undo_last_turn"]
    assert undone["tool_results"][0]["output"]["undone"] == [
        {"did": "restored", "id": undone["tool_results"][0]["output"]["undone"][0]["id"], "title": "Buy milk"}
    ]
    assert await _titles(client, alice, alice_auth) == [("Buy milk", False), ("Call mom", False)]
    log = (await client.get(f"/api/{alice}/changes", headers=alice_auth)).json()["changes"]
    assert log[0]["message_id"] == undone["message_id"] and log[0]["conversation_id"] == conversation
    assert log[1]["message_id"] == done["message_id"] and log[1]["reverted_at"] is not None

    # An edit of another field made since (here over REST) stays: only the rename goes back.
    renamed = await chat(client, alice, alice_auth, "rename buy milk to buy oat milk", conversation)
    todo_id = renamed["tool_results"][-1]["output"]["todo"]["id"]
    await client.patch(f"/api/{alice}/todos/{todo_id}", json={"completed": True}, headers=alice_auth)
    await chat(client, alice, alice_auth, "undo that", conversation)
    assert await _titles(client, alice, alice_auth) == [("Buy milk", True), ("Call mom", False)]

    # A field the undo would restore, changed since, is named, and nothing is undone.
    await chat(client, alice, alice_auth, "rename buy milk to buy oat milk", conversation)
    await client.patch(f"/api/{alice}/todos/{todo_id}", json={"title": "Buy soy milk"}, headers=alice_auth)
    refused = await chat(client, alice, alice_auth, "undo that", conversation)
    assert refused["tool_results"][0]["output"]["error"]["code"] == "conflict"
    assert "Buy soy milk" in refused["response"]
    assert await _titles(client, alice, alice_auth) == [("Buy soy milk", True), ("Call mom", False)]


async def test_i_meant_another_after_a_delete_brings_it_back_and_deletes_the_one_meant(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    await _add(
        client, alice, alice_auth, "Buy Christmas tree", "Write Christmas cards", "Order turkey", "Book carol tickets"
    )
    deleted = await chat(client, alice, alice_auth, "delete the 2nd one")
    outcome = await chat(
        client, alice, alice_auth, "no no, I meant the 4th! put the cards one back", deleted["conversation_id"]
    )
    assert [call["name"] for call in outcome["tool_calls"]] == ["undo_last_turn", "list_todos", "delete_todo"]
    assert outcome["response"].startswith("Undone.") and 'Deleted "Book carol tickets".' in outcome["response"]
    titles = [title for title, _ in await _titles(client, alice, alice_auth)]
    assert titles == ["Buy Christmas tree", "Write Christmas cards", "Order turkey"]


async def test_nothing_to_undo_in_a_new_conversation(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    await _add(client, alice, alice_auth, "Buy milk")
    first = await chat(client, alice, alice_auth, "show my list")
    body = await chat(client, alice, alice_auth, "undo that", first["conversation_id"])
    assert body["tool_results"][0]["output"]["error"]["code"] == "not_found"
    assert "no recent change" in body["response"]


async def test_a_streamed_bulk_delete_sends_the_approval_event_and_the_streamed_route_resumes_it(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    await _add(client, alice, alice_auth, "Buy milk", "Call mom")
    response = await client.post(f"/api/{alice}/chat/stream", json={"message": "clear my list"}, headers=alice_auth)
    events, _ = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[0] == "conversation" and names[-2:] == ["approval", "done"], names
    approval, done = events[-2][1], events[-1][1]
    assert approval["approvals"] == done["approvals"] and done["status"] == "awaiting_approval"
    assert "".join(data["text"] for name, data in events if name == "delta") == done["response"]

    url = f"/api/{alice}/conversations/{done['conversation_id']}/approvals/stream"
    decisions = {"decisions": [{"id": a["id"], "approve": True} for a in done["approvals"]]}
    resumed = await client.post(url, json=decisions, headers=alice_auth)
    assert resumed.status_code == 200, resumed.text
    events, _ = parse_sse(resumed.text)
    assert [name for name, _ in events].count("tool_result") == 2
    assert events[-1][0] == "done" and events[-1][1]["status"] == "completed"
    assert await _titles(client, alice, alice_auth) == []
    assert_error(await client.post(url, json=decisions, headers=alice_auth), 409, "conflict")


async def test_an_expired_approval_is_404_and_yes_is_then_a_new_request(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    await _add(client, alice, alice_auth, "Buy milk", "Call mom")
    paused = await chat(client, alice, alice_auth, "clear my list")
    async with database.session() as db:
        await db.exec(update(AgentApproval).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    url = f"/api/{alice}/conversations/{paused['conversation_id']}/approvals"
    decisions = {"decisions": [{"id": a["id"], "approve": True} for a in paused["approvals"]]}
    assert_error(await client.post(url, json=decisions, headers=alice_auth), 404, "not_found")
    later = await chat(client, alice, alice_auth, "yes", paused["conversation_id"])
    assert later["status"] == "completed" and later["tool_calls"] == []
    assert len(await _titles(client, alice, alice_auth)) == 2
    # It says so, rather than an "OK!" a user would read as the deletion done.
    assert "no longer waiting" in later["response"] and "haven't changed anything" in later["response"]


@pytest.fixture
async def policy_client(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(app_settings(database_url, agent_approval=request.param))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


@pytest.mark.parametrize(
    ("policy_client", "message", "pauses"),
    [
        ("never", "clear my list", False),
        ("always", "delete buy milk", True),
        ("always", "mark everything as done", True),
        ("always", "mark buy milk as done", False),
        ("bulk", "delete buy milk", False),
    ],
    indirect=["policy_client"],
)
async def test_policies(
    policy_client: httpx.AsyncClient,
    database: Database,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    message: str,
    pauses: bool,
) -> None:
    await _add(policy_client, alice, alice_auth, "Buy milk", "Call mom")
    body: dict[str, Any] = await chat(policy_client, alice, alice_auth, message)
    assert (body["status"] == "awaiting_approval") is pauses, body
    assert bool(body["approvals"]) is pauses
