"""Abuse limits over HTTP: rate limit, body size, idempotency keys and one turn per conversation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from service.api.state import AppState
from service.config import Settings
from service.db import Database
from service.models import AgentMessage, Task
from tests.api.conftest import app_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(
        database_url, rate_limit_chat_per_minute=5, max_request_bytes=4096, conversation_lock_timeout_s=0.5
    )


async def count(database: Database, model: Any) -> int:
    async with database.session() as db:
        return len((await db.exec(select(model))).all())


async def test_chat_rate_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    statuses = [
        (await client.post(f"/api/{alice}/chat", json={"message": "hi"}, headers=alice_auth)).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    limited = await client.post(f"/api/{alice}/chat/stream", json={"message": "hi"}, headers=alice_auth)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Quotas are per user, and reading is not limited.
    assert (await client.post(f"/api/{bob}/chat", json={"message": "hi"}, headers=bob_auth)).status_code == 200
    assert (await client.get(f"/api/{alice}/todos", headers=alice_auth)).status_code == 200


async def test_a_request_refused_as_invalid_spends_no_chat_quota(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """A client fixing its request body is not locked out by the attempts that were refused."""
    invalid = [{"message": ""}, {"message": 3}, {}, {"message": "hi", "conversation_id": "nope"}]
    for body in invalid * 2:
        assert (await client.post(f"/api/{alice}/chat", json=body, headers=alice_auth)).status_code == 422
    decisions = await client.post(
        f"/api/{alice}/conversations/{uuid.uuid4()}/approvals", json={"decisions": []}, headers=alice_auth
    )
    assert decisions.status_code == 422
    statuses = [
        (await client.post(f"/api/{alice}/chat", json={"message": "hi"}, headers=alice_auth)).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


async def test_oversized_body_is_413_and_stores_nothing(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], database: Database
) -> None:
    response = await client.post(f"/api/{alice}/chat", json={"message": "x" * 5000}, headers=alice_auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit counts what arrives
        for _ in range(10):
            yield b"x" * 1000

    streamed = await client.post(
        f"/api/{alice}/todos", content=chunks(), headers={**alice_auth, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert await count(database, AgentMessage) == 0 and await count(database, Task) == 0


async def test_same_idempotency_key_runs_once_and_answers_the_same(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], database: Database
) -> None:
    headers = {**alice_auth, "Idempotency-Key": "add-milk-1"}
    body = {"message": "add buy milk"}
    first, second = await asyncio.gather(
        client.post(f"/api/{alice}/chat", json=body, headers=headers),
        client.post(f"/api/{alice}/chat", json=body, headers=headers),
    )
    third = await client.post(f"/api/{alice}/chat", json=body, headers=headers)
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()
    assert await count(database, Task) == 1
    assert await count(database, AgentMessage) == 4  # one turn: message, call, output, answer

    # A streamed retry replays the same response as its `done` event.
    streamed = await client.post(f"/api/{alice}/chat/stream", json=body, headers=headers)
    assert '"conversation_id"' in streamed.text and first.json()["message_id"] in streamed.text
    assert await count(database, Task) == 1


async def test_idempotency_key_reused_for_another_request_is_refused(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    headers = {**alice_auth, "Idempotency-Key": "k1"}
    assert (await client.post(f"/api/{alice}/chat", json={"message": "hi"}, headers=headers)).status_code == 200
    reused = await client.post(f"/api/{alice}/chat", json={"message": "add eggs"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_keys_are_per_user(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    body = {"message": "add buy milk"}
    a = await client.post(f"/api/{alice}/chat", json=body, headers={**alice_auth, "Idempotency-Key": "same"})
    b = await client.post(f"/api/{bob}/chat", json=body, headers={**bob_auth, "Idempotency-Key": "same"})
    assert a.json()["conversation_id"] != b.json()["conversation_id"]


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "tab\tkey"])
async def test_malformed_idempotency_keys_are_refused(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], key: str
) -> None:
    headers = {**alice_auth, "Idempotency-Key": key}
    response = await client.post(f"/api/{alice}/chat", json={"message": "hi"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_second_turn_on_a_busy_conversation_gets_409(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], app: Any
) -> None:
    first = (await client.post(f"/api/{alice}/chat", json={"message": "hi"}, headers=alice_auth)).json()
    conversation = uuid.UUID(first["conversation_id"])
    again = {"message": "hi again", "conversation_id": str(conversation)}
    async with AppState.of(app).agent.locks.hold(conversation):  # a turn in progress
        busy = await client.post(f"/api/{alice}/chat", json=again, headers=alice_auth)
        # streamed, the same answer before the stream starts (as for an unknown conversation), not an error event
        busy_stream = await client.post(f"/api/{alice}/chat/stream", json=again, headers=alice_auth)
        other = await client.post(f"/api/{alice}/chat", json={"message": "hello"}, headers=alice_auth)
    for refused in (busy, busy_stream):
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert other.status_code == 200  # other conversations do not wait
