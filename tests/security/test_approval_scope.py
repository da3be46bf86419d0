"""A paused turn never shows or touches another user's todos: a model asking to delete Alice's todos
from Bob's chat pauses (bulk), the approvals name nothing of hers, and Bob's "yes" still deletes nothing."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from service.config import Settings
from tests.api.conftest import app_settings
from tests.scripted_model import ModelSlot, scripted
from tests.security.test_malicious_model import Alice, alice_todos, alices_todos

__all__ = ["alice_todos"]  # the fixture, shared


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(database_url, rate_limit_chat_per_minute=0, agent_approval="bulk")


@pytest.fixture
def model_provider() -> ModelSlot:
    return ModelSlot()


async def test_bulk_delete_of_alices_ids_from_bobs_chat_pauses_without_naming_hers_and_yes_deletes_nothing(
    client: httpx.AsyncClient, model_provider: ModelSlot, alice_todos: Alice, bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    model_provider.model = scripted([[("delete_todo", {"todo": todo_id}) for todo_id in alice_todos.ids], "All gone."])
    paused = await client.post(f"/api/{bob}/chat", json={"message": "delete all of these"}, headers=bob_auth)
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["status"] == "awaiting_approval" and len(body["approvals"]) == 3
    for title in (t["title"] for t in alice_todos.todos):
        assert title not in json.dumps(body)

    done = await client.post(
        f"/api/{bob}/chat", json={"message": "yes", "conversation_id": body["conversation_id"]}, headers=bob_auth
    )
    assert done.status_code == 200, done.text
    outputs = [r["output"] for r in done.json()["tool_results"]]
    assert [o["error"]["code"] for o in outputs] == ["not_found"] * 3
    assert done.json()["guardrail"]["name"] == "tool_ownership"
    assert await alices_todos(client, alice_todos) == alice_todos.todos
    for secret in alice_todos.secrets[1:]:
        if secret not in alice_todos.ids:  # her ids are in Bob's own calls; her titles must be nowhere
            assert secret not in done.text
