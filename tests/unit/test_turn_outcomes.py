"""How a turn ends when something stops it: output guardrail, a failing tool, too many steps."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from service import todos
from service.agent.memory import AgentMessageSession
from service.agent.runtime import AgentRuntime
from service.config import Settings
from service.db import Database
from tests.conftest import new_user
from tests.scripted_model import ModelSlot, scripted


@pytest.fixture
def models() -> ModelSlot:
    return ModelSlot()


@pytest.fixture
def runtime(database: Database, database_url: str, models: ModelSlot) -> AgentRuntime:
    settings = Settings(_env_file=None, database_url=database_url, model_provider="offline")
    return AgentRuntime(settings, database, model_provider=models)


async def stored(runtime: AgentRuntime, user_id: uuid.UUID, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    return await AgentMessageSession(runtime.database, user_id, conversation_id).get_items()  # type: ignore[return-value]


async def test_output_guardrail_blocks_another_users_title_and_id(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    other = await new_user(database)
    async with database.session() as db:
        secret = await todos.add_todo(db, other, title="Surprise party for Ada")
    leaky = f'Your list: 1. "Surprise party for Ada" (id {secret.id})'
    models.model = scripted([[("list_todos", {"completed": None, "limit": None, "offset": None})], leaky])

    result = await runtime.run_turn(user_id, "show my todos", None)

    assert result.guardrail == {"name": "output_scope", "message": result.response}
    assert "Surprise" not in result.response and str(secret.id) not in result.response
    items = await stored(runtime, user_id, result.conversation_id)
    assert "Surprise" not in json.dumps(items)
    assert [i.get("type", "message") for i in items] == ["message", "function_call", "function_call_output", "message"]


async def test_a_reply_naming_the_users_own_todo_passes(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    other = await new_user(database)
    async with database.session() as db:
        await todos.add_todo(db, other, title="Buy milk")  # the same title on both lists is not a leak
        mine = await todos.add_todo(db, user_id, title="Buy milk")
    # The reply names what this turn's own list_todos returned (output_scope judges against what it saw).
    listing = [("list_todos", {"completed": None, "limit": None, "offset": None})]
    models.model = scripted([listing, f'1. "Buy milk" ({mine.id})'])
    result = await runtime.run_turn(user_id, "show my todos", None)
    assert result.guardrail is None
    assert "Buy milk" in result.response


async def test_a_raising_tool_gives_the_model_a_short_error_and_the_turn_completes(
    runtime: AgentRuntime, models: ModelSlot, user_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("connection to 10.0.0.7 refused: password=hunter2")

    monkeypatch.setattr(todos, "list_todos", broken)
    models.model = scripted([[("list_todos", {"completed": None, "limit": None, "offset": None})], "Sorry."])
    result = await runtime.run_turn(user_id, "show my todos", None)
    output = result.tool_results[0]["output"]
    failed = "the todo store failed, so nothing changed; please try again"  # words a user may be told as they are
    assert output == {"error": {"code": "internal", "message": failed}}
    assert "hunter2" not in json.dumps(await stored(runtime, user_id, result.conversation_id))
    assert result.response == "Sorry."


async def test_too_many_steps_end_politely_with_every_call_paired(
    runtime: AgentRuntime, models: ModelSlot, user_id: uuid.UUID
) -> None:
    endless = [[("list_todos", {"completed": None, "limit": None, "offset": page})] for page in range(50)]
    models.model = scripted(endless)
    result = await runtime.run_turn(user_id, "loop forever", None)
    assert "more steps" in result.response
    items = await stored(runtime, user_id, result.conversation_id)
    calls = [i["call_id"] for i in items if i.get("type") == "function_call"]
    outputs = [i["call_id"] for i in items if i.get("type") == "function_call_output"]
    assert calls and calls == outputs
