"""Shared by the API and browser tests: a chat turn, the error shape, seeded conversations, SSE parsing,
a slow model."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from service.agent.offline import OfflineModel
from service.db import Database
from service.models import AgentMessage, AgentSession
from service.users import ensure_user

MILK_TODO = {
    "id": "5f0c1c1e-0000-4000-8000-000000000001",
    "title": "Milk",
    "description": None,
    "completed": False,
    "due_date": None,
}


async def turn(
    client: httpx.AsyncClient,
    user: uuid.UUID,
    auth: dict[str, str],
    message: str,
    conversation_id: Any = None,
    route: str = "chat",
) -> httpx.Response:
    """One turn through `POST /chat` (or `/chat/stream`) that must succeed."""
    body = {"message": message, "conversation_id": conversation_id}
    response = await client.post(f"/api/{user}/{route}", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response


async def chat(
    client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], message: str, conversation_id: Any = None
) -> dict[str, Any]:
    """One turn through `POST /chat` that must succeed; its JSON body."""
    body: dict[str, Any] = (await turn(client, user, auth, message, conversation_id)).json()
    return body


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """Every failure has the one documented shape and leaks no internals; returns the message."""
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text}"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message, body
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text
    return message


def add_milk_turn(user_id: uuid.UUID, session_id: uuid.UUID) -> list[AgentMessage]:
    """One realistic turn as the memory module stores it: the SDK items plus their query columns."""
    arguments = json.dumps({"title": "Milk"})
    output = json.dumps({"todo": MILK_TODO})
    answer = "Added “Milk” to your list."

    def row(
        role: str,
        kind: str,
        content: str,
        item: dict[str, Any],
        tool_name: str | None = None,
        call_id: str | None = None,
    ) -> AgentMessage:
        return AgentMessage(
            session_id=session_id,
            user_id=user_id,
            role=role,
            kind=kind,
            content=content,
            tool_name=tool_name,
            call_id=call_id,
            item=item,
        )

    return [
        row("user", "message", "add milk", {"role": "user", "content": "add milk"}),
        row(
            "assistant",
            "function_call",
            arguments,
            {"type": "function_call", "call_id": "call_1", "name": "add_todo", "arguments": arguments},
            tool_name="add_todo",
            call_id="call_1",
        ),
        row(
            "tool",
            "function_call_output",
            output,
            {"type": "function_call_output", "call_id": "call_1", "output": output},
            call_id="call_1",
        ),
        row(
            "assistant",
            "message",
            answer,
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "status": "completed",
                "content": [{"type": "output_text", "text": answer, "annotations": []}],
            },
        ),
    ]


async def seed_conversation(
    database: Database,
    user_id: uuid.UUID,
    *,
    title: str | None = "Groceries",
    updated_at: datetime | None = None,
    with_turn: bool = True,
) -> uuid.UUID:
    """A conversation written straight through the ORM, so these tests do not depend on the agent."""
    async with database.session() as db:
        await ensure_user(db, user_id)
        session = AgentSession(user_id=user_id, title=title)
        if updated_at is not None:
            session.updated_at = updated_at
        db.add(session)
        await db.flush()
        # One flush per row pins `seq` to the order of the turn.
        for row in add_milk_turn(user_id, session.id) if with_turn else []:
            db.add(row)
            await db.flush()
        await db.commit()
        return session.id


def parse_sse(text: str) -> tuple[list[tuple[str, Any]], int]:
    """The (event, JSON data) pairs of a server-sent event stream, in order, and its count of comment lines."""
    events: list[tuple[str, Any]] = []
    comments = 0
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith(":"):
                comments += 1
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events, comments


class PacedModel(OfflineModel):
    """The offline model, pausing before each stream event, so a test can act (or watch) while a turn runs;
    with `fails_with`, it raises that after the answer's first text delta, as a provider can mid-answer."""

    def __init__(self, pause_s: float = 0.0, fails_with: Exception | None = None) -> None:
        super().__init__()
        self.pause_s, self.fails_with = pause_s, fails_with

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for event in super().stream_response(*args, **kwargs):
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            yield event
            if self.fails_with is not None and event.type == "response.output_text.delta":
                raise self.fails_with
