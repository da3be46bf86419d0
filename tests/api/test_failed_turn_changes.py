"""A turn that fails after its tools ran is not stored, so its changes are undone with it (DESIGN §6a):
the change log keeps both the change and its undo, and a later "undo" does not redo it."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import fake_provider_settings as settings  # noqa: F401  (the model is `fake`)
from tests.api.helpers import assert_error
from tests.fake_llm import ErrorReply, FakeLLM, ToolCallReply


async def test_a_turn_failing_after_its_tool_ran_reverts_the_change_and_logs_both(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM
) -> None:
    # The tool runs, then the provider refuses the next request (a 400: no fallback, the turn fails).
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), ErrorReply(400)]
    response = await client.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=alice_auth)
    assert_error(response, 503, "model_unavailable")

    todos = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    assert todos == []
    undo, add = (await client.get(f"/api/{alice}/changes", headers=alice_auth)).json()["changes"]
    assert (add["op"], add["after"]["title"]) == ("add", "Buy milk")
    assert add["message_id"] is not None and add["reverted_at"] is not None
    assert (undo["op"], undo["before"]["title"]) == ("delete", "Buy milk")
    assert undo["message_id"] is None and undo["conversation_id"] == add["conversation_id"]
