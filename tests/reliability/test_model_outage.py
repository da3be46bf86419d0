"""Issue 3, done-when 4 (model half): the model endpoint fails for a stretch of turns under load.

The service runs as deployed (`MODEL_PROVIDER=openai-compatible`) against the fake OpenAI-compatible
server. Thirty concurrent turns meet an endpoint answering 5xx and 429, thirty more a closed port
(connection refused); every one must still be answered 200 by the offline model (`using_stub: true`).
Then the endpoint comes back on the same port and thirty more turns are answered by it, with no
restart of the service: nothing about the outage sticks.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fake_llm import ErrorReply, FakeLLM, Reply, TextReply, ToolCallReply, serve_fake_llm
from tests.live_server import free_port
from tests.reliability.service_process import ServiceProcess, running_service
from tests.reliability.turns import TurnOutcome, client, match_answers, send_turn, stored_turns, todo_titles

pytestmark = pytest.mark.slow

TURNS = 30
MODEL = "fake-model"
# The statuses a provider fails with that call for the fallback (a 4xx other than 429 must not).
FAILURES = (500, 502, 503, 429)


@dataclass
class ModelEndpoint:
    """What the fake endpoint answers: an error while `failing`, else a real model's two steps of an add."""

    failing: bool = True
    statuses: Iterator[int] = field(default_factory=lambda: itertools.cycle(FAILURES))

    def reply(self, body: dict[str, Any]) -> Reply:
        if self.failing:
            return ErrorReply(next(self.statuses))
        last = body["messages"][-1]
        if last["role"] == "tool":
            return TextReply("Added it to your list.")
        return ToolCallReply("add_todo", {"title": str(last["content"]).removeprefix("add ")})


@pytest.fixture(scope="module")
def model_port() -> int:
    """Fixed before the service starts, so the endpoint can go away and come back at the same address."""
    return free_port()


@pytest.fixture(scope="module")
def service(
    any_database_url: str, model_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    settings = {
        "DATABASE_URL": any_database_url,
        "MODEL_PROVIDER": "openai-compatible",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
        "AGENT_MODEL": MODEL,
        "MODEL_MAX_RETRIES": "0",  # every failure reaches the fallback at once; retries only slow the test
        "MODEL_TIMEOUT_S": "10",
    }
    with running_service(tmp_path_factory.mktemp("service"), settings) as running:
        yield running


async def _turns(service: ServiceProcess, user: uuid.UUID, phase: str) -> list[TurnOutcome]:
    auth = service.auth(user)
    async with client(service.base_url) as http:
        return await asyncio.gather(*(send_turn(http, user, auth, f"add {phase} probe {n}") for n in range(TURNS)))


def _assert_all_answered(outcomes: list[TurnOutcome], *, using_stub: bool) -> None:
    assert [o for o in outcomes if o.status != 200] == []
    for outcome in outcomes:
        body = outcome.body
        assert body["using_stub"] is using_stub, outcome
        assert body["model"] == ("offline" if using_stub else MODEL), outcome
        assert [call["name"] for call in body["tool_calls"]] == ["add_todo"], outcome


async def test_model_outage_under_load_falls_back_then_recovers(
    service: ServiceProcess, model_port: int, any_database_url: str
) -> None:
    endpoint = ModelEndpoint()
    fake = FakeLLM(responder=endpoint.reply)
    user = uuid.uuid4()

    async with serve_fake_llm(fake, port=model_port):
        failing = await _turns(service, user, "failing")
    failed_requests = len(fake.requests)
    refused = await _turns(service, user, "refused")  # nothing listens on the port now
    endpoint.failing = False
    async with serve_fake_llm(fake, port=model_port):
        recovered = await _turns(service, user, "recovered")

    print(
        f"\nendpoint failing: {sum(o.status == 200 for o in failing)}/{TURNS} answered by the fallback, "
        f"{failed_requests} model requests failed; connection refused: "
        f"{sum(o.status == 200 for o in refused)}/{TURNS} answered by the fallback; recovered: "
        f"{sum(o.status == 200 and not o.body['using_stub'] for o in recovered)}/{TURNS} answered by the model; "
        f"slowest turn {max(o.latency_s for o in failing + refused + recovered):.2f} s"
    )
    _assert_all_answered(failing, using_stub=True)
    assert failed_requests >= TURNS, "each failing turn tried the endpoint first"
    _assert_all_answered(refused, using_stub=True)
    _assert_all_answered(recovered, using_stub=False)
    assert all(call["id"].startswith("call_fake_") for o in recovered for call in o.body["tool_calls"])

    # Every turn stored once and whole, whichever model finished it, and each added exactly its todo.
    everything = failing + refused + recovered
    lost, unanswered = match_answers(await stored_turns(any_database_url, user), everything)
    assert not lost and not unanswered, (lost, unanswered)
    titles = sorted(t.casefold() for t in await todo_titles(any_database_url, user))
    assert titles == sorted(o.message.removeprefix("add ").casefold() for o in everything)
