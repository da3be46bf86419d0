"""Issue 12, done-when: 20 concurrent decisions on one paused turn, over two uvicorn workers on
PostgreSQL: exactly one takes effect, every other one is 409 `conflict`, and nothing runs twice.

The decisions are claimed by a conditional UPDATE (`decided_at IS NULL`) before the conversation's lock
is taken, so the losers answer at once, whichever worker they reach.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import col, select

from service.db import Database
from service.models import AgentApproval, AgentMessage
from tests.reliability.service_process import ServiceProcess, running_service
from tests.reliability.turns import client, send_turn

pytestmark = pytest.mark.slow

DECISIONS = 20
TITLES = ("Buy milk", "Pay rent", "Walk the dog")


@pytest.fixture(scope="module")
def service(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    settings = {"DATABASE_URL": postgres_url, "MODEL_PROVIDER": "offline"}
    with running_service(tmp_path_factory.mktemp("service"), settings, workers=2) as running:
        yield running


async def test_concurrent_decisions_on_one_approval_exactly_one_wins(
    service: ServiceProcess, postgres_url: str
) -> None:
    user = uuid.uuid4()
    auth = service.auth(user)
    async with client(service.base_url) as http:
        for title in TITLES:
            todo = (await http.post(f"/api/{user}/todos", json={"title": title}, headers=auth)).json()
            await http.patch(f"/api/{user}/todos/{todo['id']}", json={"completed": True}, headers=auth)
        paused = await send_turn(http, user, auth, "delete everything I've finished")
        assert paused.status == 200 and paused.body["status"] == "awaiting_approval", paused
        conversation = paused.body["conversation_id"]
        ids = [a["id"] for a in paused.body["approvals"]]
        url = f"/api/{user}/conversations/{conversation}/approvals"

        async def decide(n: int) -> httpx.Response:
            approve = n % 2 == 0  # half approve, half reject: the winner's choice must be the one applied
            return await http.post(url, json={"decisions": [{"id": i, "approve": approve} for i in ids]}, headers=auth)

        responses = await asyncio.gather(*(decide(n) for n in range(DECISIONS)))
        todos = (await http.get(f"/api/{user}/todos", headers=auth)).json()["todos"]

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    for loser in (r for r in responses if r.status_code != 200):
        assert loser.status_code == 409, loser.text
        body = loser.json()
        assert set(body) == {"error"} and body["error"]["code"] == "conflict", body
    winner = winners[0].json()
    approved = winner["tool_results"][0]["output"].get("deleted") is not None
    assert [t["title"] for t in todos] == ([] if approved else list(TITLES))

    database = Database(postgres_url)
    try:
        async with database.reader() as db:
            approval = (
                await db.exec(
                    select(AgentApproval).where(col(AgentApproval.conversation_id) == uuid.UUID(conversation))
                )
            ).one()
            deletes = (
                await db.exec(
                    select(AgentMessage.id).where(
                        col(AgentMessage.session_id) == uuid.UUID(conversation),
                        col(AgentMessage.kind) == "function_call",
                        col(AgentMessage.tool_name) == "delete_todo",
                    )
                )
            ).all()
    finally:
        await database.dispose()
    assert approval.decided_at is not None
    assert len(deletes) == len(TITLES)  # the resumed turn ran and was stored once, not once per request
