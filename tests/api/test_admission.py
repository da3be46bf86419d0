"""Admission control over real HTTP: past `AGENT_MAX_INFLIGHT_TURNS`, a turn is refused at once with 503 + Retry-After.

The model here waits at a gate the test opens, so "in flight" is a state the test sets up, not a race
against a clock; nothing below asserts a duration.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from service.agent.offline import OfflineModel
from service.api.state import AppState
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.models import AgentMessage, AgentSession
from tests.api.conftest import app_settings
from tests.api.helpers import assert_error, parse_sse
from tests.live_server import serve_asgi
from tests.scripted_model import ModelSlot


class GatedModel(OfflineModel):
    """The offline model, each call held until the test opens `gate`; `waiting` counts the calls held."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0

    async def _wait(self) -> None:
        self.waiting += 1
        await self.gate.wait()

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        await self._wait()
        return await super().get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        await self._wait()
        async for event in super().stream_response(*args, **kwargs):
            yield event


@pytest.fixture
def gated() -> GatedModel:
    return GatedModel()


def limited(database_url: str, limit: int) -> Settings:
    return app_settings(database_url, agent_max_inflight_turns=limit, rate_limit_chat_per_minute=0)


_DECISIONS = {"decisions": [{"id": "call_1", "approve": True}]}
_PAUSED = f"conversations/{uuid.uuid4()}/approvals"
TURNS = [  # every route that runs a turn: a chat message, or the decisions that resume a paused turn
    ("chat", {"message": "add bread"}),
    ("chat/stream", {"message": "add bread"}),
    (_PAUSED, _DECISIONS),
    (f"{_PAUSED}/stream", _DECISIONS),
]


async def until(condition: Any) -> None:
    """Yield to the server until `condition()` holds; the bound only keeps a broken build from hanging."""
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.01)


async def count_rows(database: Database, user: uuid.UUID) -> tuple[int, int]:
    async with database.reader() as db:
        sessions = (await db.exec(select(func.count()).where(AgentSession.user_id == user))).one()
        messages = (await db.exec(select(func.count()).where(AgentMessage.user_id == user))).one()
    return int(sessions), int(messages)


async def test_turns_past_the_limit_get_a_fast_503_with_retry_after_and_run_nothing(
    database_url: str,
    database: Database,
    gated: GatedModel,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
) -> None:
    app = create_app(limited(database_url, 2), model_provider=ModelSlot(gated))
    async with serve_asgi(app) as (_, base_url), httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        # Two turns in flight: one answered whole, one streamed, both held at the model.
        plain = asyncio.create_task(http.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=alice_auth))
        streamed = asyncio.create_task(
            http.post(f"/api/{alice}/chat/stream", json={"message": "add eggs"}, headers=alice_auth)
        )
        await until(lambda: gated.waiting == 2)

        for path, body in TURNS:
            refused = await http.post(f"/api/{bob}/{path}", json=body, headers=bob_auth)
            assert_error(refused, 503, "overloaded")
            assert refused.headers["retry-after"] == "1"
            assert refused.headers["content-type"].startswith("application/json")
        assert await count_rows(database, bob) == (0, 0)  # no conversation made, nothing stored

        # Admission comes before auth: a refused request learns nothing about its token either.
        anonymous = await http.post(f"/api/{bob}/chat", json={"message": "add bread"})
        assert_error(anonymous, 503, "overloaded")
        # Other routes are not turns and are not limited, writes included.
        assert (await http.get(f"/api/{alice}/todos", headers=alice_auth)).status_code == 200
        added = await http.post(f"/api/{alice}/todos", json={"title": "bread"}, headers=alice_auth)
        assert added.status_code == 201, added.text

        gated.gate.set()
        assert (await plain).status_code == 200
        done = await streamed
        assert done.status_code == 200
        events, _ = parse_sse(done.text)
        assert events[-1][0] == "done"

        # Both slots are free again.
        await until(lambda: AppState.of(app).admission.inflight == 0)
        again = await http.post(f"/api/{bob}/chat", json={"message": "add bread"}, headers=bob_auth)
        assert again.status_code == 200, again.text
    assert AppState.of(app).admission.rejected == len(TURNS) + 1


async def test_a_streamed_turn_keeps_its_slot_after_its_client_leaves_until_it_ends(
    database_url: str,
    database: Database,
    gated: GatedModel,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
) -> None:
    app = create_app(limited(database_url, 1), model_provider=ModelSlot(gated))
    async with serve_asgi(app) as (_, base_url), httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        url = f"/api/{alice}/chat/stream"
        async with http.stream("POST", url, json={"message": "add milk"}, headers=alice_auth) as response:
            assert response.status_code == 200
            await until(lambda: gated.waiting == 1)
        # The client is gone; the turn is not: it still counts.
        refused = await http.post(f"/api/{alice}/chat", json={"message": "add eggs"}, headers=alice_auth)
        assert_error(refused, 503, "overloaded")
        assert "retry-after" in refused.headers

        gated.gate.set()
        await until(lambda: AppState.of(app).admission.inflight == 0)
        assert await count_rows(database, alice) == (1, 4)  # the left turn was stored whole
        assert (
            await http.post(url.removesuffix("/stream"), json={"message": "add eggs"}, headers=alice_auth)
        ).status_code == 200


async def test_failed_turns_give_their_slot_back(
    database_url: str, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    app = create_app(limited(database_url, 1))
    async with serve_asgi(app) as (_, base_url), httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        unknown = {"message": "add milk", "conversation_id": str(uuid.uuid4())}
        for path in ("chat", "chat/stream"):
            assert_error(await http.post(f"/api/{alice}/{path}", json=unknown, headers=alice_auth), 404, "not_found")
        for path, body in TURNS[2:]:  # no such approval
            assert_error(await http.post(f"/api/{alice}/{path}", json=body, headers=alice_auth), 404, "not_found")
        assert_error(await http.post(f"/api/{alice}/chat", json={"message": "add milk"}), 401, "unauthorized")
        assert AppState.of(app).admission.inflight == 0
        assert (
            await http.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=alice_auth)
        ).status_code == 200


async def test_no_limit_when_set_to_zero(database_url: str, database: Database) -> None:
    app = create_app(limited(database_url, 0))
    async with app.router.lifespan_context(app):
        slots = [AppState.of(app).admission.admit() for _ in range(1000)]
        assert AppState.of(app).admission.inflight == 1000
        for slot in slots:
            slot.release()
            slot.release()  # once only, however often
        assert AppState.of(app).admission.inflight == 0
