"""Tools shaped for what a small model has (service/agent/tools.py, repeats.py): several todos in one call,
due dates in the user's words, a title chosen more precisely than the user said it, and a model that
repeats its calls. Real turns (runtime, tools, database), with a scripted model."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from service import todos
from service.agent.runtime import AgentRuntime
from service.agent.tools import ALL_TOOLS
from service.db import Database
from tests.scripted_model import ModelSlot, scripted
from tests.unit.test_turn_outcomes import models, runtime, stored

__all__ = ["models", "runtime"]  # the fixtures, shared with test_turn_outcomes


async def _titles(database: Database, user_id: uuid.UUID) -> dict[str, bool]:
    async with database.session() as db:
        page = await todos.list_todos(db, user_id)
    return {task.title: task.completed for task in page.todos}


async def _seed(database: Database, user_id: uuid.UUID, *titles: str) -> None:
    async with database.session() as db:
        await todos.add_todos(db, user_id, titles=list(titles))


async def test_one_update_call_completes_several_todos(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    await _seed(database, user_id, "Buy milk", "Buy bread", "Call mom")
    models.model = scripted([[("update_todo", {"todo": ["milk", "bread"], "completed": True})], "Done."])
    result = await runtime.run_turn(user_id, "got the milk and the bread, check both off", None)
    assert [t["title"] for t in result.tool_results[0]["output"]["todos"]] == ["Buy milk", "Buy bread"]
    assert await _titles(database, user_id) == {"Buy milk": True, "Buy bread": True, "Call mom": False}


@pytest.mark.parametrize(
    ("arguments", "message", "code"),
    [
        ({"todo": ["milk", "gym"], "completed": True}, "milk and gym are done", "not_found"),
        ({"todo": ["milk", "mom"], "title": "Same"}, "rename both", "invalid_argument"),
    ],
    ids=["one-todo-unknown", "one-title-for-several"],
)
async def test_a_refused_update_of_several_todos_changes_none_of_them(
    runtime: AgentRuntime,
    models: ModelSlot,
    database: Database,
    user_id: uuid.UUID,
    arguments: dict[str, Any],
    message: str,
    code: str,
) -> None:
    await _seed(database, user_id, "Buy milk", "Call mom")
    models.model = scripted([[("update_todo", arguments)], "Hm."])
    result = await runtime.run_turn(user_id, message, None)
    assert result.tool_results[0]["output"]["error"]["code"] == code
    assert await _titles(database, user_id) == {"Buy milk": False, "Call mom": False}


async def test_a_due_date_in_the_users_words_is_read_against_the_turns_date(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    runtime.clock = lambda: datetime(2026, 11, 24, 12, tzinfo=UTC)
    models.model = scripted([[("add_todo", {"title": "Send the invoice", "due_date": "Friday"})], "Added."])
    result = await runtime.run_turn(user_id, "send the invoice by friday", None)
    assert result.tool_results[0]["output"]["todo"]["due_date"] == "2026-11-27"  # Tuesday the 24th -> Friday


async def test_a_due_date_of_none_removes_it_and_an_empty_one_keeps_it(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    async with database.session() as db:
        await todos.add_todos(db, user_id, titles=["Gym", "Report"], due_date="2026-11-27")
    models.model = scripted(
        [
            [("update_todo", {"todo": "gym", "due_date": "None"}), ("update_todo", {"todo": "report", "due_date": ""})],
            "Ok.",
        ]
    )
    result = await runtime.run_turn(user_id, "the gym needs no deadline", None)
    assert [r["output"]["todo"]["due_date"] for r in result.tool_results] == [None, "2026-11-27"]


async def test_a_due_date_that_is_no_date_is_an_error_the_model_can_act_on(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    models.model = scripted([[("add_todo", {"title": "Send the invoice", "due_date": "whenever"})], "Hm."])
    result = await runtime.run_turn(user_id, "send the invoice whenever", None)
    assert result.tool_results[0]["output"]["error"]["code"] == "invalid_argument"
    assert await _titles(database, user_id) == {}


async def test_a_title_the_model_guessed_among_lookalikes_is_asked_about(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    await _seed(database, user_id, "Call mom", "Call dad")
    models.model = scripted([[("update_todo", {"todo": "Call mom", "completed": True})], "Which one?"])
    result = await runtime.run_turn(user_id, "mark the call as done", None)
    output = result.tool_results[0]["output"]["error"]
    assert output["code"] == "ambiguous"
    assert sorted(c["title"] for c in output["candidates"]) == ["Call dad", "Call mom"]
    assert await _titles(database, user_id) == {"Call mom": False, "Call dad": False}


async def test_the_new_title_of_a_rename_is_not_taken_for_how_the_user_named_the_todo(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    """ "the milk one" fits both milks; "buy" belongs to the new title, so "Buy milk" is the model's guess."""
    await _seed(database, user_id, "Buy milk", "Buy oat milk")
    models.model = scripted([[("update_todo", {"todo": "Buy milk", "title": "Buy cheese"})], "Which one?"])
    result = await runtime.run_turn(user_id, "rename the milk one to buy cheese", None)
    assert result.tool_results[0]["output"]["error"]["code"] == "ambiguous"
    assert await _titles(database, user_id) == {"Buy milk": False, "Buy oat milk": False}
    models.model = scripted([[("update_todo", {"todo": "Buy oat milk", "title": "Buy cheese"})], "Renamed."])
    await runtime.run_turn(user_id, "rename buy oat milk to buy cheese", None)
    assert await _titles(database, user_id) == {"Buy milk": False, "Buy cheese": False}


async def test_a_model_repeating_its_call_gets_no_duplicate_and_the_turn_ends(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    add: list[tuple[str, dict[str, Any]]] = [("add_todo", {"title": "Call the plumber", "due_date": None})]
    models.model = scripted([add, add, add, add, "never reached"])
    result = await runtime.run_turn(user_id, "add call the plumber", None)
    assert await _titles(database, user_id) == {"Call the plumber": False}  # once, not four times
    assert [c["name"] for c in result.tool_calls] == ["add_todo", "add_todo"]  # stopped at the first repeat
    assert result.tool_results[1]["output"]["error"]["code"] == "repeated"
    assert result.response == 'Here is what I did: added "Call the plumber".'
    items = await stored(runtime, user_id, result.conversation_id)
    assert items[-1]["role"] == "assistant" and result.response in str(items[-1]["content"])


async def test_a_read_may_be_repeated_once_something_changed(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    listing: list[tuple[str, dict[str, Any]]] = [("list_todos", {"completed": None, "limit": None, "offset": None})]
    script: list[Any] = [listing, [("add_todo", {"title": "Buy milk"})], listing, "Buy milk"]
    models.model = scripted(script)
    result = await runtime.run_turn(user_id, "add milk and show me the list", None)
    assert [c["name"] for c in result.tool_calls] == ["list_todos", "add_todo", "list_todos"]
    assert [t["title"] for t in result.tool_results[2]["output"]["todos"]] == ["Buy milk"]
    assert result.response == "Buy milk"


async def test_the_calls_of_one_response_run_in_the_order_written(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    # Run together, the delete could find the todo or not depending on timing; in order, it always does.
    steps: list[Any] = [
        [("add_todo", {"title": "Tape"}), ("delete_todo", {"todo": "Tape"})],
        'Added and deleted "Tape".',
    ]
    models.model = scripted(steps)
    result = await runtime.run_turn(user_id, "add tape, then delete tape", None)
    assert [r["output"].get("error") for r in result.tool_results] == [None, None]
    assert await _titles(database, user_id) == {}


def test_the_schemas_a_model_reads_carry_no_pydantic_noise_and_optional_arguments_stay_optional() -> None:
    """No `title` keys (a small model copied `add_todo_args` into its calls) and no `anyOf [type, null]`:
    an optional argument is its plain type and not required; argument names called `title` stay."""
    for tool in ALL_TOOLS.values():
        text = json.dumps(tool.params_json_schema)
        assert '"title": "' not in text and '"type": "null"' not in text and '"default"' not in text, tool.name
    update = ALL_TOOLS["update_todo"].params_json_schema
    assert update["required"] == ["todo"] and update["properties"]["title"]["type"] == "string"
    assert update["properties"]["completed"] == {
        "type": "boolean",
        "description": update["properties"]["completed"]["description"],
    }
    assert "anyOf" in update["properties"]["todo"]  # one reference or a list: both types stay


async def test_an_explicit_null_for_an_optional_argument_is_still_accepted(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    await _seed(database, user_id, "Buy milk")
    models.model = scripted([[("update_todo", {"todo": "milk", "completed": True, "title": None})], "Done."])
    await runtime.run_turn(user_id, "milk is done", None)
    assert await _titles(database, user_id) == {"Buy milk": True}


async def test_an_update_of_a_todo_that_is_not_there_points_the_model_to_add_todo(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    """ "remind me to call the dentist" read as a change to a todo of that name: the error says what to call."""
    models.model = scripted([[("update_todo", {"todo": "call the dentist", "completed": False})], "Not found."])
    result = await runtime.run_turn(user_id, "remind me to call the dentist", None)
    error = result.tool_results[0]["output"]["error"]
    assert error["code"] == "not_found" and "call add_todo" in error["message"]
    assert await _titles(database, user_id) == {}


@pytest.mark.parametrize("raced", [0, 1])
async def test_a_batch_update_racing_another_writer_reports_what_it_did(
    runtime: AgentRuntime,
    models: ModelSlot,
    database: Database,
    user_id: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
    raced: int,
) -> None:
    """Between the tool reading its todos and writing one, another request renames that one: the write reads
    it again and applies, and the tool reports both todos, not "the todo store failed" (it did, once, after
    the retry's rollback left the todo written before it unreadable). Several deletes pause for approval
    first; a delete's race is tests/api/test_todos_api.py's."""
    await _seed(database, user_id, "Buy milk", "Buy bread")
    write = todos.update_todo
    writes = iter(range(2))

    async def racing(db: Any, user: uuid.UUID, todo_id: Any, **fields: Any) -> Any:
        if next(writes) == raced:
            async with database.session() as other:
                await write(other, user, todo_id, title="Renamed elsewhere")
        return await write(db, user, todo_id, **fields)

    monkeypatch.setattr(todos, "update_todo", racing)
    models.model = scripted([[("update_todo", {"todo": ["milk", "bread"], "completed": True})], "Done."])
    result = await runtime.run_turn(user_id, "both of them are done", None)
    output = result.tool_results[0]["output"]
    assert [todo["completed"] for todo in output.get("todos", [])] == [True, True], output
    titles = ["Buy milk", "Buy bread"]
    titles[raced] = "Renamed elsewhere"
    assert await _titles(database, user_id) == dict.fromkeys(titles, True)


def test_a_race_inside_a_tool_is_a_conflict_to_retry_not_a_store_failure() -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from service.agent.tools import _tool_failed

    out = json.loads(_tool_failed(None, StaleDataError("undo raced a PATCH")))  # type: ignore[arg-type]
    assert out["error"]["code"] == "conflict" and "try again" in out["error"]["message"]
