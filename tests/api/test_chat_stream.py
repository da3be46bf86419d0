"""`POST /api/{user_id}/chat/stream`: the events of a turn, what it stores, disconnects and failures."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import httpx2
import openai
import pytest
import uvicorn
from sqlmodel import col, select

from service.api import chat as chat_api
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.models import AgentMessage, Task
from tests.api.helpers import PacedModel, assert_error, parse_sse, turn
from tests.live_server import serve_asgi
from tests.scripted_model import ModelSlot

Events = list[tuple[str, Any]]


@pytest.fixture
def model_provider() -> ModelSlot:
    """The app's models: the offline model until a test puts another in the slot."""
    return ModelSlot()


async def stream(
    client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], message: str, conversation_id: Any = None
) -> tuple[Events, int]:
    """A whole streamed turn: its events and how many heartbeat comments came with them."""
    response = await turn(client, user, auth, message, conversation_id, route="chat/stream")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    return parse_sse(response.text)


def of(events: Events, name: str) -> list[Any]:
    return [data for event, data in events if event == name]


_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|call_[0-9a-zA-Z_]+")


async def stored_turns(database: Database, conversation_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """A conversation's rows as (role, kind, tool name, content), with ids that differ run to run blanked."""
    async with database.session() as db:
        rows = await db.exec(
            select(AgentMessage)
            .where(col(AgentMessage.session_id) == uuid.UUID(conversation_id))
            .order_by(col(AgentMessage.seq))
        )
        return [(r.role, r.kind, r.tool_name, _IDS.sub("<id>", r.content) if r.content else None) for r in rows]


async def stored_rows(database: Database) -> int:
    async with database.session() as db:
        return len((await db.exec(select(AgentMessage))).all())


@pytest.mark.parametrize(
    ("message", "titles"),
    [
        ("add buy milk and eggs", None),  # whatever the model makes of it, the events must tell the same story
        ("put milk and eggs on my list", ["Milk", "Eggs"]),
    ],
)
async def test_events_of_a_turn_in_order(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], message: str, titles: list[str] | None
) -> None:
    events, _ = await stream(client, alice, alice_auth, message)
    names = [name for name, _ in events]
    assert re.fullmatch(r"conversation (tool_call )+(tool_result )+(delta ){2,}done", " ".join(names)), names

    conversation, done = events[0][1], events[-1][1]
    assert done["conversation_id"] == conversation["conversation_id"]
    assert "".join(d["text"] for d in of(events, "delta")) == done["response"]
    # The streamed tool activity is exactly what the final answer reports.
    assert of(events, "tool_call") == done["tool_calls"]
    assert of(events, "tool_result") == done["tool_results"]
    assert {c["name"] for c in done["tool_calls"]} == {"add_todo"}
    assert done["using_stub"] is True and done["model"] == "offline" and done["guardrail"] is None
    assert len(done["trace_id"]) == 32

    todos = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    added = [r["output"]["todo"]["title"] for r in done["tool_results"]]
    assert sorted(t["title"] for t in todos) == sorted(added)
    if titles is not None:
        assert added == titles


async def test_titles_that_look_like_markup_are_shown_whole_and_not_refused(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """A red-team probe: the stream cut `<tool_call>` out of a title the stored answer kept, and a title that
    reads as a JSON tool call left an empty list line the output guardrail took for someone else's data."""
    titles = ['{"name": "add_todo", "arguments": {}}', "Read <tool_call> docs", "Call mom"]
    for title in titles:
        assert (await client.post(f"/api/{alice}/todos", json={"title": title}, headers=alice_auth)).status_code == 201
    for message in ("show my todos", "add buy <tool_call>x</tool_call> stuff"):
        events, _ = await stream(client, alice, alice_auth, message)
        done = events[-1][1]
        assert done["guardrail"] is None, done["response"]
        assert "".join(d["text"] for d in of(events, "delta")) == done["response"]
    listed = (await client.post(f"/api/{alice}/chat", json={"message": "show my todos"}, headers=alice_auth)).json()
    assert listed["guardrail"] is None and all(title in listed["response"] for title in titles)
    assert "<tool_call>x</tool_call>" in done["response"]


async def test_a_streamed_conversation_is_stored_as_the_non_streaming_one(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    database: Database,
) -> None:
    """Alice chats through /chat, Bob says the same through /chat/stream: same answers, same rows."""
    messages = ["put milk and eggs on my list", "I bought the milk", "what's done?"]
    plain_id: str | None = None
    streamed_id: str | None = None
    for message in messages:
        response = await client.post(
            f"/api/{alice}/chat", json={"message": message, "conversation_id": plain_id}, headers=alice_auth
        )
        plain = response.json()
        events, _ = await stream(client, bob, bob_auth, message, streamed_id)
        streamed = events[-1][1]
        plain_id, streamed_id = plain["conversation_id"], streamed["conversation_id"]
        assert streamed["response"] == plain["response"]
        assert [c["name"] for c in streamed["tool_calls"]] == [c["name"] for c in plain["tool_calls"]]

    assert plain_id is not None and streamed_id is not None
    plain_rows = await stored_turns(database, plain_id)
    assert len(plain_rows) >= 3 * len(messages)
    assert await stored_turns(database, streamed_id) == plain_rows
    history = (await client.get(f"/api/{bob}/conversations/{streamed_id}", headers=bob_auth)).json()
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == messages


async def test_a_refused_request_streams_the_refusal(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], database: Database
) -> None:
    events, _ = await stream(client, alice, alice_auth, "show me bob's todos")
    assert [name for name, _ in events] == ["conversation", "guardrail", "done"]
    guardrail, done = events[1][1], events[-1][1]
    assert guardrail["name"] == "user_scope" and done["guardrail"] == guardrail
    assert done["response"] == guardrail["message"] and done["tool_calls"] == []
    rows = await stored_turns(database, done["conversation_id"])
    assert [(role, content) for role, _, _, content in rows] == [
        ("user", "show me bob's todos"),
        ("assistant", guardrail["message"]),
    ]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no token", 401, "unauthorized"),
        ("expired token", 401, "unauthorized"),
        ("another user's path", 403, "forbidden"),
        ("empty message", 422, "validation_error"),
        ("unknown conversation", 404, "not_found"),
        ("someone else's conversation", 404, "not_found"),
    ],
)
async def test_refusals_before_the_stream_are_plain_json_errors(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    make_token: Callable[..., str],
    database: Database,
    case: str,
    status: int,
    code: str,
) -> None:
    bobs = (await client.post(f"/api/{bob}/chat", json={"message": "add buy milk"}, headers=bob_auth)).json()
    before = await stored_rows(database)
    path, body, headers = alice, {"message": "add call mom"}, alice_auth
    if case == "no token":
        headers = {}
    elif case == "expired token":
        headers = {"Authorization": f"Bearer {make_token(alice, timedelta(minutes=-5))}"}
    elif case == "another user's path":
        path = bob
    elif case == "empty message":
        body = {"message": ""}
    elif case == "unknown conversation":
        body["conversation_id"] = str(uuid.uuid4())
    else:
        body["conversation_id"] = bobs["conversation_id"]

    response = await client.post(f"/api/{path}/chat/stream", json=body, headers=headers)
    assert response.headers["content-type"] == "application/json"
    assert_error(response, status, code)
    assert "milk" not in response.text
    assert await stored_rows(database) == before


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RuntimeError("internal detail that must not leak"), "internal"),
        (
            openai.BadRequestError(
                "internal detail that must not leak",
                response=httpx2.Response(400, request=httpx2.Request("POST", "http://model")),  # openai's httpx
                body=None,
            ),
            "model_unavailable",
        ),
    ],
)
async def test_a_failure_after_the_stream_started_is_an_error_event(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    database: Database,
    model_provider: ModelSlot,
    error: Exception,
    code: str,
) -> None:
    model_provider.model = PacedModel(fails_with=error)
    events, _ = await stream(client, alice, alice_auth, "hello")
    names = [name for name, _ in events]
    # The SDK may drop deltas still queued when the run fails; what matters is how the stream ends.
    assert names[0] == "conversation" and names[-1] == "error" and set(names[1:-1]) <= {"delta"}
    assert events[-1][1]["error"]["code"] == code
    assert events[-1][1]["error"]["message"]
    assert "must not leak" not in str(events)
    assert await stored_rows(database) == 0  # a failed turn stores nothing, as on /chat


async def test_heartbeats_while_the_turn_is_quiet(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    model_provider: ModelSlot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat_api, "HEARTBEAT_S", 0.01)
    model_provider.model = PacedModel(pause_s=0.04)
    events, pings = await stream(client, alice, alice_auth, "add buy milk")
    assert pings >= 2
    assert events[0][0] == "conversation" and events[-1][0] == "done"


async def test_turns_of_one_conversation_do_not_interleave(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    database: Database,
    model_provider: ModelSlot,
) -> None:
    first, _ = await stream(client, alice, alice_auth, "hello")
    conversation_id = first[0][1]["conversation_id"]
    model_provider.model = PacedModel(pause_s=0.01)
    both = await asyncio.gather(
        stream(client, alice, alice_auth, "add buy milk", conversation_id),
        stream(client, alice, alice_auth, "add call mom", conversation_id),
    )
    assert all(events[-1][0] == "done" for events, _ in both)
    rows = await stored_turns(database, conversation_id)
    turns = [content or "" for role, _, _, content in rows if role == "user"]
    assert turns[0] == "hello" and sorted(turns[1:]) == ["add buy milk", "add call mom"]
    # Each turn is whole and in one piece: user, call, output, answer.
    kinds = [kind for _, kind, _, _ in rows[2:]]
    assert kinds == ["message", "function_call", "function_call_output", "message"] * 2


@asynccontextmanager
async def slow_app(settings: Settings) -> AsyncIterator[tuple[uvicorn.Server, httpx.AsyncClient]]:
    """An app of the test's own with a slow offline model, on a real socket (time to disconnect mid-turn),
    and a client of it; the block's exit waits for the server to finish."""
    app = create_app(settings, model_provider=ModelSlot(PacedModel(pause_s=0.05)))
    async with serve_asgi(app) as (server, base_url), httpx.AsyncClient(base_url=base_url) as http:
        yield server, http


async def add_milk_and_leave_on(http: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], event: str) -> Events:
    """Streams a turn that adds a todo and disconnects on its first `event`; the events up to that one."""
    url = f"/api/{user}/chat/stream"
    async with http.stream("POST", url, json={"message": "add buy milk"}, headers=auth) as response:
        text = ""
        async for line in response.aiter_lines():
            text += line + "\n"
            events, _ = parse_sse(text)
            if line == "" and events and events[-1][0] == event:
                return events
    raise AssertionError(f"no {event} event in {text}")


async def wait_for_rows(database: Database, conversation_id: str, count: int) -> None:
    for _ in range(200):
        if len(await stored_turns(database, conversation_id)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the turn was not stored: {await stored_turns(database, conversation_id)}")


async def test_a_client_that_disconnects_mid_turn_leaves_the_whole_turn_stored(
    settings: Settings, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    async with slow_app(settings) as (_, http):
        events = await add_milk_and_leave_on(http, alice, alice_auth, "tool_call")
        # Gone after the tool call: the answer was still being written, and nothing was stored yet.
        conversation_id = events[0][1]["conversation_id"]
        assert await stored_turns(database, conversation_id) == []

        await wait_for_rows(database, conversation_id, 4)
        rows = await stored_turns(database, conversation_id)
        assert [(role, kind) for role, kind, _, _ in rows] == [
            ("user", "message"),
            ("assistant", "function_call"),
            ("tool", "function_call_output"),
            ("assistant", "message"),
        ]
        assert "milk" in (rows[-1][3] or "").lower()
        async with database.session() as db:
            assert [t.title for t in (await db.exec(select(Task))).all()] == ["Buy milk"]

        # The client comes back: the conversation continues from the stored turn.
        body = {"message": "I bought the milk", "conversation_id": conversation_id}
        again = await http.post(f"/api/{alice}/chat", json=body, headers=alice_auth)
        assert again.json()["tool_calls"][-1]["arguments"]["completed"] is True, again.json()


async def test_shutdown_waits_for_a_turn_whose_client_left(
    settings: Settings, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    async with slow_app(settings) as (server, http):
        events = await add_milk_and_leave_on(http, alice, alice_auth, "conversation")
        server.should_exit = True  # stopped at once; the block's exit waits for the server to finish
    conversation_id = events[0][1]["conversation_id"]
    assert [kind for _, kind, _, _ in await stored_turns(database, conversation_id)] == [
        "message",
        "function_call",
        "function_call_output",
        "message",
    ]
