"""The agent turn in-process: what the model is sent, and what a turn stores."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from agents import ModelResponse
from service.agent import snapshot
from service.agent.memory import AgentMessageSession
from service.agent.offline import OfflineModel
from service.agent.runtime import AgentRuntime
from service.config import Settings
from service.db import Database
from service.errors import NotFound
from service.models import AgentSession
from tests.scripted_model import GatedModel, ModelSlot, scripted


class RecordingModel(OfflineModel):
    """The offline model, remembering every input it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[list[Any]] = []

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        self.inputs.append(list(input))
        return await super().get_response(system_instructions, input, *args, **kwargs)


def seeded_turn(n: int) -> list[dict[str, Any]]:
    """Six stored items per turn: the shape real tool turns have."""
    call_a, call_b = f"call_{n}_a", f"call_{n}_b"
    return [
        {"role": "user", "content": f"add thing {n} and other {n}"},
        {"type": "function_call", "call_id": call_a, "name": "add_todo", "arguments": '{"title": "x"}'},
        {"type": "function_call", "call_id": call_b, "name": "add_todo", "arguments": '{"title": "y"}'},
        {"type": "function_call_output", "call_id": call_a, "output": '{"todo": {"title": "x"}}'},
        {"type": "function_call_output", "call_id": call_b, "output": '{"todo": {"title": "y"}}'},
        {
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": f"Added {n}", "annotations": []}],
        },
    ]


async def test_model_gets_at_most_history_limit_items_and_no_orphans(
    database: Database, database_url: str, user_id: uuid.UUID
) -> None:
    settings = Settings(_env_file=None, database_url=database_url, model_provider="offline", agent_history_limit=20)
    recorder = RecordingModel()
    runtime = AgentRuntime(settings, database, model_provider=ModelSlot(recorder))

    conversation = AgentSession(user_id=user_id)
    async with database.session() as db:
        db.add(conversation)
        await db.commit()
    memory = AgentMessageSession(database, user_id, conversation.id)
    for n in range(10):  # 60 prior items
        await memory.add_items(seeded_turn(n))  # type: ignore[arg-type]

    result = await runtime.run_turn(user_id, "hello", conversation.id)
    assert result.response

    first_call = recorder.inputs[0]
    facts = first_call[-2]  # the turn's date, a system message just before the user's, never stored
    assert facts.get("role") == "system" and str(facts.get("content")).startswith("Current date: ")
    assert len(first_call) - 1 <= 20  # history and this turn's message together
    history = first_call[:-2]
    assert history[0].get("type") != "function_call_output"
    calls = {i["call_id"] for i in history if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in history if i.get("type") == "function_call_output"}
    assert calls == outputs
    assert first_call[-1] == {"role": "user", "content": "hello"}
    assert len(await memory.get_items()) == 62  # the greeting turn added its message and answer


async def test_a_first_message_goes_on_when_the_snapshot_cannot_be_read(
    database: Database, database_url: str, user_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot is read before the turn runs, with the user's timezone; its failure (here a statement that
    fails, which aborts a PostgreSQL transaction) must not take the first message or its conversation with it."""

    async def failing_list(db: Any, *_args: Any, **_kwargs: Any) -> Any:
        await db.exec(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(snapshot.todos, "list_todos", failing_list)
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        model_provider="openai-compatible",
        openai_base_url="http://127.0.0.1:9/v1",
        agent_model="scripted",
    )
    model = scripted(["Hello! What shall I add?"])
    runtime = AgentRuntime(settings, database, model_provider=ModelSlot(model))

    result = await runtime.run_turn(user_id, "hi", None)

    assert result.response == "Hello! What shall I add?" and not result.using_stub
    [call] = model.calls
    assert isinstance(call.input, list) and len(call.input) == 2  # the date (no list) and the message: no history
    assert call.input[0]["content"].startswith("Current date: ") and "todo list" not in call.input[0]["content"]
    stored = await AgentMessageSession(database, user_id, result.conversation_id).get_items()
    assert [item.get("role") for item in stored] == ["user", "assistant"]


async def test_a_new_conversation_exists_only_once_its_first_turn_is_stored(
    database: Database, database_url: str, user_id: uuid.UUID
) -> None:
    """The first turn takes no lock and reads no history and no paused run: that is only right if no other
    turn can reach the conversation before it. A streamed turn names its conversation at once; until that
    turn is stored, the conversation does not exist, so another turn on it is `not_found`."""
    settings = Settings(_env_file=None, database_url=database_url, model_provider="offline")
    model = GatedModel()
    runtime = AgentRuntime(settings, database, model_provider=ModelSlot(model))
    events = await runtime.stream_turn(user_id, "add buy milk", None)
    first = await anext(events)
    conversation_id = uuid.UUID(first.data["conversation_id"])  # type: ignore[index]
    await asyncio.wait_for(model.called.wait(), 10)  # the first turn is at its model

    with pytest.raises(NotFound):
        await runtime.run_turn(user_id, "add buy eggs", conversation_id)
    async with database.session() as db:
        assert await db.get(AgentSession, conversation_id) is None
    model.gate.set()
    done = [event async for event in events][-1]
    assert done.type == "done"

    later = await runtime.run_turn(user_id, "what is on my list?", conversation_id)
    assert "milk" in later.response.lower()
    stored = await AgentMessageSession(database, user_id, conversation_id).get_items()
    assert [item.get("content") for item in stored if item.get("role") == "user"] == [
        "add buy milk",
        "what is on my list?",
    ]
