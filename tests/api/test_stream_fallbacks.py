"""A provider that answers a streamed call with a plain JSON body (issue 13 item 6).

Before: the stream held no events, so the turn ended `done` with an empty response and the conversation
stored only the user's message (half a turn).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from service.db import Database
from tests.api.conftest import fake_provider_settings as settings  # noqa: F401  (the model is `fake`)
from tests.api.helpers import parse_sse
from tests.api.test_openai_compatible_provider import assert_consistent, stored_items
from tests.fake_llm import FakeLLM, Reply, TextReply, ToolCallReply


async def test_a_plain_json_answer_to_a_streamed_call_still_completes_the_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, database: Database
) -> None:
    fake.ignore_stream = True

    def answer(body: dict[str, Any]) -> Reply:  # the same answer to the same request, however often asked
        if any(m.get("role") == "tool" for m in body["messages"]):
            return TextReply("Added Buy milk.")
        return ToolCallReply("add_todo", {"title": "Buy milk"})

    fake.responder = answer
    response = await client.post(f"/api/{alice}/chat/stream", json={"message": "add buy milk"}, headers=alice_auth)
    assert response.status_code == 200, response.text
    events, _ = parse_sse(response.text)
    done = events[-1][1]
    assert events[-1][0] == "done", events
    assert done["response"] == "Added Buy milk.", done
    assert [c["name"] for c in done["tool_calls"]] == ["add_todo"]
    items = await stored_items(database, done["conversation_id"])
    assert_consistent(items, ["add buy milk"])
    assert items[-1]["role"] == "assistant" and items[-1]["content"][0]["text"] == "Added Buy milk."
    todos = await client.get(f"/api/{alice}/todos", headers=alice_auth)
    assert [t["title"] for t in todos.json()["todos"]] == ["Buy milk"]
