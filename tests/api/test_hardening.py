"""Regression tests for the red-team findings of issue 13 that show at the HTTP API."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from service import todos as todos_domain
from tests.api.helpers import assert_error, chat, parse_sse
from tests.scripted_model import GatedModel, ModelSlot


@pytest.fixture
def model_provider() -> ModelSlot:
    """The app's models: the offline model until a test puts a gated one in the slot."""
    return ModelSlot()


async def delete_the_conversation_mid_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], model_provider: ModelSlot, endpoint: str
) -> tuple[str, httpx.Response]:
    """A second turn of a conversation through `endpoint`, held at the model while the conversation is
    deleted; the conversation's id and the turn's response."""
    conversation = (await chat(client, alice, alice_auth, "hello"))["conversation_id"]
    model = model_provider.model = GatedModel()
    turn = asyncio.create_task(
        client.post(
            f"/api/{alice}/{endpoint}",
            json={"message": "add buy milk", "conversation_id": conversation},
            headers=alice_auth,
        )
    )
    await asyncio.wait_for(model.called.wait(), 10)
    deleted = await client.delete(f"/api/{alice}/conversations/{conversation}", headers=alice_auth)
    assert deleted.status_code == 204, deleted.text
    model.gate.set()
    return conversation, await turn


async def test_deleting_a_conversation_while_its_turn_runs_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, alice: uuid.UUID, alice_auth: dict[str, str], model_provider: ModelSlot
) -> None:
    """Issue 13 item 5: storing the turn hit the foreign key of the deleted conversation: a 500."""
    conversation, response = await delete_the_conversation_mid_turn(client, alice, alice_auth, model_provider, "chat")

    assert_error(response, 404, "not_found")
    gone = await client.get(f"/api/{alice}/conversations/{conversation}", headers=alice_auth)
    assert_error(gone, 404, "not_found")
    # The turn is not stored, so its tool's change is undone with it (a probe found the milk kept).
    assert (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"] == []


async def test_deleting_a_conversation_while_its_streamed_turn_runs_ends_in_an_error_event(
    client: httpx.AsyncClient, app: FastAPI, alice: uuid.UUID, alice_auth: dict[str, str], model_provider: ModelSlot
) -> None:
    _, response = await delete_the_conversation_mid_turn(client, alice, alice_auth, model_provider, "chat/stream")

    events, _ = parse_sse(response.text)
    assert events[-1] == ("error", {"error": {"code": "not_found", "message": "no such conversation"}}), events
    assert any(name == "tool_result" for name, _ in events)  # the tool ran before the turn failed
    assert (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"] == []


async def test_api_responses_are_nosniff_and_no_store(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """Issue 13 (smaller): API responses had neither `X-Content-Type-Options: nosniff` nor `no-store`."""
    responses = [
        await client.get(f"/api/{alice}/todos", headers=alice_auth),
        await client.post(f"/api/{alice}/todos", json={"title": "x" * 5000}, headers=alice_auth),  # 422
        await client.get(f"/api/{alice}/todos"),  # 401
        await client.post(f"/api/{alice}/chat", content=b"x" * (1024 * 1024), headers=alice_auth),  # 413
        await client.post(f"/api/{alice}/chat/stream", json={"message": "hi"}, headers=alice_auth),
    ]
    assert [r.status_code for r in responses] == [200, 422, 401, 413, 200]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["cache-control"] == "no-store", response.request.url
    health = await client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"


async def test_an_unexpected_failure_is_a_json_500_with_the_headers_and_the_connection_kept(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A red-team probe: an unexpected exception reached Starlette's outermost handler, whose 500 had neither
    `nosniff` nor `no-store`, and which raised on, so the server dropped the keep-alive connection (here, the
    ASGI client would raise)."""

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(todos_domain, "list_todos", broken)
    response = await client.get(f"/api/{alice}/todos", headers=alice_auth)
    assert_error(response, 500, "internal")
    assert "internal detail" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_a_failing_rollback_after_a_read_does_not_break_the_response(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 7: during a database outage the request session's closing ROLLBACK failed after the
    response had started; the error escaped the app and the server dropped the keep-alive connection."""
    assert (await client.get(f"/api/{alice}/todos", headers=alice_auth)).status_code == 200  # user now known

    async def broken_close(self: AsyncSession) -> None:
        raise OperationalError("ROLLBACK", {}, ConnectionError("server closed the connection unexpectedly"))

    monkeypatch.setattr(AsyncSession, "close", broken_close)
    response = await client.get(f"/api/{alice}/todos", headers=alice_auth)  # before: raised out of the app
    assert response.status_code == 200, response.text
    assert response.json()["todos"] == []
