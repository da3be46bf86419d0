"""Issue 12, done-when: approvals and undo against the real service (`python -m service serve`) over
loopback HTTP, on SQLite or PostgreSQL (TEST_DATABASE_URL).

- A newcomer says "delete everything I've finished", sees the question, says "yes", then undoes the
  turn (the page's Undo is `POST /changes/revert` with the turn's message id): every todo is back.
- A paused turn survives a restart of the service between the question and the answer.
- A turn killed (SIGKILL) between its tool call and its storage leaves every change logged against
  that turn (its conversation and the message id it would have been stored under), and undoable.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.db import Database
from service.models import AgentMessage, TodoChange
from tests.api.helpers import chat
from tests.fake_llm import FakeLLM, TextReply, ToolCallReply
from tests.live_server import serve_asgi
from tests.reliability.service_process import auth_headers, running_service

pytestmark = pytest.mark.slow

FINISHED = ("Buy milk", "Pay rent", "Walk the dog")
OPEN = "Call mom"


async def _seed(http: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> list[dict[str, Any]]:
    for title in (FINISHED[0], OPEN, *FINISHED[1:]):
        created = await http.post(f"/api/{user}/todos", json={"title": title}, headers=auth)
        assert created.status_code == 201, created.text
        if title in FINISHED:
            done = await http.patch(f"/api/{user}/todos/{created.json()['id']}", json={"completed": True}, headers=auth)
            assert done.status_code == 200, done.text
    return await _todos(http, user, auth)


async def _todos(http: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await http.get(f"/api/{user}/todos", headers=auth)
    assert response.status_code == 200, response.text
    todos: list[dict[str, Any]] = response.json()["todos"]
    return todos


def _comparable(todos: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(t["id"], t["title"], t["completed"], t["created_at"]) for t in todos]


def _assert_asks_about_every_finished_todo(paused: dict[str, Any]) -> None:
    assert paused["status"] == "awaiting_approval", paused
    assert sorted(a["summary"] for a in paused["approvals"]) == sorted(f'Delete "{t}"' for t in FINISHED)
    assert all(title in paused["response"] for title in FINISHED) and "yes or no" in paused["response"]


async def test_newcomer_deletes_finished_todos_says_yes_then_undoes_everything(
    any_database_url: str, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    auth = auth_headers(user)
    settings = {"DATABASE_URL": any_database_url, "MODEL_PROVIDER": "offline"}
    with running_service(tmp_path, settings) as service:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=60) as http:
            before = await _seed(http, user, auth)

            paused = await chat(http, user, auth, "delete everything I've finished")
            _assert_asks_about_every_finished_todo(paused)
            assert len(await _todos(http, user, auth)) == 4  # nothing deleted before the yes

            done = await chat(http, user, auth, "yes", paused["conversation_id"])
            assert done["status"] == "completed" and done["approvals"] == []
            assert [t["title"] for t in await _todos(http, user, auth)] == [OPEN]

            changes = (await http.get(f"/api/{user}/changes?limit=3", headers=auth)).json()["changes"]
            assert [c["op"] for c in changes] == ["delete"] * 3
            assert {c["message_id"] for c in changes} == {done["message_id"]}
            assert {c["conversation_id"] for c in changes} == {paused["conversation_id"]}

            undo = await http.post(f"/api/{user}/changes/revert", json={"message_id": done["message_id"]}, headers=auth)
            assert undo.status_code == 200, undo.text
            assert len(undo.json()["reverted"]) == 3
            assert _comparable(await _todos(http, user, auth)) == _comparable(before)


async def test_a_paused_turn_survives_a_restart_of_the_service(any_database_url: str, tmp_path: Path) -> None:
    user = uuid.uuid4()
    auth = auth_headers(user)
    settings = {"DATABASE_URL": any_database_url, "MODEL_PROVIDER": "offline"}
    with running_service(tmp_path, settings) as first:
        async with httpx.AsyncClient(base_url=first.base_url, timeout=60) as http:
            await _seed(http, user, auth)
            paused = await chat(http, user, auth, "delete everything I've finished")
            _assert_asks_about_every_finished_todo(paused)
            also_paused = await chat(http, user, auth, "clear my list")  # a second conversation, for the route
            assert also_paused["status"] == "awaiting_approval"

    with running_service(tmp_path, settings) as second:  # a new process: only the database remembers
        async with httpx.AsyncClient(base_url=second.base_url, timeout=60) as http:
            decisions = {"decisions": [{"id": a["id"], "approve": False} for a in also_paused["approvals"]]}
            url = f"/api/{user}/conversations/{also_paused['conversation_id']}/approvals"
            rejected = await http.post(url, json=decisions, headers=auth)
            assert rejected.status_code == 200, rejected.text
            assert rejected.json()["status"] == "completed"
            assert len(await _todos(http, user, auth)) == 4

            done = await chat(http, user, auth, "yes", paused["conversation_id"])
            assert sorted(c["name"] for c in done["tool_calls"]) == ["delete_todo"] * 3
            assert [t["title"] for t in await _todos(http, user, auth)] == [OPEN]


class HangingModel:
    """An OpenAI-compatible model that says hello, asks for one `add_todo`, then never answers again."""

    def __init__(self) -> None:
        self.fake = FakeLLM([TextReply("Hello!"), ToolCallReply("add_todo", {"title": "Buy oat milk"})])
        self.hanging = asyncio.Event()
        self.release = asyncio.Event()  # set once the service is gone, so the fake server can shut down

    async def chat_completions(self, request: Request) -> Response:
        body = await request.json()
        self.fake.requests.append(body)
        if self.fake.replies:
            reply = self.fake.next_reply(body)
            assert isinstance(reply, ToolCallReply | TextReply)
            return JSONResponse(self.fake.completion(reply))
        self.hanging.set()  # the tool ran and its output is on its way back: the turn is mid-flight
        await self.release.wait()  # no answer while the service lives; it is killed meanwhile
        return JSONResponse({"error": {"message": "too late"}}, status_code=500)


@asynccontextmanager
async def _serve(model: HangingModel) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/v1/chat/completions", model.chat_completions, methods=["POST"])])
    async with serve_asgi(app, lifespan="off") as (_server, base_url):
        try:
            yield f"{base_url}/v1"
        finally:
            model.release.set()


async def test_a_turn_killed_between_its_tool_call_and_its_storage_has_its_changes_logged_against_it(
    any_database_url: str, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    auth = auth_headers(user)
    model = HangingModel()
    async with _serve(model) as base_url:
        settings = {
            "DATABASE_URL": any_database_url,
            "MODEL_PROVIDER": "openai-compatible",
            "OPENAI_BASE_URL": base_url,
            "AGENT_MODEL": "fake-model",
            "MODEL_MAX_RETRIES": "0",
            "MODEL_TIMEOUT_S": "300",  # the kill comes first
        }
        with running_service(tmp_path, settings) as service:
            async with httpx.AsyncClient(base_url=service.base_url, timeout=60) as http:
                conversation = (await chat(http, user, auth, "hello"))["conversation_id"]  # a text answer
                turn = asyncio.create_task(
                    http.post(
                        f"/api/{user}/chat",
                        json={"message": "add oat milk", "conversation_id": conversation},
                        headers=auth,
                    )
                )
                await model.hanging.wait()
                os.killpg(service.process.pid, signal.SIGKILL)  # the whole service, workers and all
                with suppress(httpx.HTTPError):
                    await turn

    database = Database(any_database_url)
    try:
        async with database.reader() as db:
            logged = (await db.exec(select(TodoChange).where(col(TodoChange.user_id) == user))).all()
            stored = set(
                await db.exec(select(AgentMessage.id).where(col(AgentMessage.session_id) == uuid.UUID(conversation)))
            )
    finally:
        await database.dispose()
    assert [(c.op, (c.after or {}).get("title")) for c in logged] == [("add", "Buy oat milk")]
    change = logged[0]
    assert change.conversation_id == uuid.UUID(conversation) and change.message_id is not None
    assert change.message_id not in stored  # the turn never got stored: the log still names it

    settings = {"DATABASE_URL": any_database_url, "MODEL_PROVIDER": "offline"}
    with running_service(tmp_path, settings) as service:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=60) as http:
            assert [t["title"] for t in await _todos(http, user, auth)] == ["Buy oat milk"]
            undo = await http.post(
                f"/api/{user}/changes/revert", json={"message_id": str(change.message_id)}, headers=auth
            )
            assert undo.status_code == 200, undo.text
            assert await _todos(http, user, auth) == []
