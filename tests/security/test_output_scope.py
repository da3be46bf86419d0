"""`output_scope` judges a reply against what this turn saw, never against other users' data (issue 13 item 3).

Looking a reply's quoted phrases up among everyone's titles made the guardrail an oracle (a reply was
refused exactly when some other user had a todo of that title) and poisonable (a todo titled like a
common reply blocked everybody's ordinary answers). Its quote pattern paired the apostrophe of
"couldn't" with a later quote, so the real quotation went unchecked; and a reply quoting the id of a
todo the turn had just deleted was refused, a missing id counting as someone else's.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from service import todos
from service.agent.runtime import AgentRuntime
from service.agent.tools import ALL_TOOLS
from service.db import Database
from service.models import Task, User
from tests.scripted_model import ModelSlot, scripted
from tests.unit.test_turn_outcomes import models, runtime

__all__ = ["models", "runtime"]  # the fixtures, imported for these tests
LIST_ALL = ("list_todos", {"completed": None, "limit": None, "offset": None})


async def other_user(database: Database, *titles: str) -> uuid.UUID:
    other = uuid.uuid4()
    async with database.session() as db:
        db.add(User(id=other))
        await db.commit()
        for title in titles:
            await todos.add_todo(db, other, title=title)
    return other


def todo_argument(tool: str) -> str:
    """The name under which `tool` takes its todo (`todo_id`, or the newer `todo` reference)."""
    properties: dict[str, Any] = ALL_TOOLS[tool].params_json_schema["properties"]
    return "todo" if "todo" in properties else "todo_id"


@pytest.mark.parametrize("someone_else_has_it", [False, True])
async def test_the_verdict_does_not_depend_on_other_users_titles(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID, someone_else_has_it: bool
) -> None:
    """Before: refused exactly when another user owned a todo titled "Plan the heist" (an oracle)."""
    if someone_else_has_it:
        await other_user(database, "Plan the heist")
    models.model = scripted([[LIST_ALL], 'No, "Plan the heist" is not on your list.'])
    result = await runtime.run_turn(user_id, 'Is "Plan the heist" on my list?', None)
    assert result.guardrail is None
    assert result.response == 'No, "Plan the heist" is not on your list.'


async def test_todos_titled_like_common_replies_do_not_block_other_users(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    """Before: another user who added todos titled like the help answer's examples got it refused for everyone."""
    first = await runtime.run_turn(user_id, "help", None)
    examples = re.findall(r'"([^"]+)"', first.response)
    assert first.guardrail is None and examples, first.response
    await other_user(database, *examples)

    again = await runtime.run_turn(user_id, "help", None)
    assert again.guardrail is None
    assert again.response == first.response


async def test_a_quotation_after_an_apostrophe_is_still_judged(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    """Before: the apostrophe of "couldn't" opened a "quotation" that swallowed the real one's opening
    quote, so another user's title inside it was never checked and reached the user."""
    await other_user(database, "Pay the Zanzibar bail")
    models.model = scripted([[LIST_ALL], 'I couldn\'t find "Pay the Zanzibar bail" on your list.'])
    result = await runtime.run_turn(user_id, "what is on my list?", None)
    assert result.guardrail is not None and result.guardrail["name"] == "output_scope"
    assert "Zanzibar" not in result.response


async def test_apostrophes_alone_are_no_quotation(runtime: AgentRuntime, models: ModelSlot, user_id: uuid.UUID) -> None:
    reply = "I couldn't find anything, and there's nothing due. Don't worry, it's all clear!"
    models.model = scripted([[LIST_ALL], reply])
    result = await runtime.run_turn(user_id, "what is due?", None)
    assert result.guardrail is None and result.response == reply


async def test_a_reply_may_quote_the_id_of_the_todo_it_just_deleted(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    """Before: the deleted id no longer existed, and a missing id counted as someone else's: refused."""
    async with database.session() as db:
        doomed = await todos.add_todo(db, user_id, title="Old chore")
    delete = ("delete_todo", {todo_argument("delete_todo"): str(doomed.id)})
    reply = f'Deleted "Old chore" (id {doomed.id}).'
    models.model = scripted([[LIST_ALL], [delete], reply])
    result = await runtime.run_turn(user_id, "delete the old chore", None)
    assert result.guardrail is None, result
    assert result.response == reply
    async with database.reader() as db:
        assert await db.get(Task, doomed.id) is None


async def test_an_id_the_turn_never_saw_is_refused_even_if_it_exists_nowhere(
    runtime: AgentRuntime, models: ModelSlot, user_id: uuid.UUID
) -> None:
    """Existing (someone else's) or not, an id this turn never saw is refused alike: no oracle either way."""
    models.model = scripted([[LIST_ALL], f"Your todo is {uuid.uuid4()}."])
    result = await runtime.run_turn(user_id, "what is on my list?", None)
    assert result.guardrail is not None and result.guardrail["name"] == "output_scope"


async def test_a_title_the_turn_never_saw_is_refused_and_the_users_own_passes(
    runtime: AgentRuntime, models: ModelSlot, database: Database, user_id: uuid.UUID
) -> None:
    async with database.session() as db:
        await todos.add_todo(db, user_id, title="Water the ferns")
    models.model = scripted([[LIST_ALL], "Your list:\n1. Water the ferns (due Friday)\n2. Feed the quokka"])
    blocked = await runtime.run_turn(user_id, "what is on my list?", None)
    assert blocked.guardrail is not None and "quokka" not in blocked.response

    models.model = scripted([[LIST_ALL], "Your list:\n1. **Water the ferns** - not done yet"])
    passed = await runtime.run_turn(user_id, "what is on my list?", None)
    assert passed.guardrail is None, passed.response
