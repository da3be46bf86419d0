"""Issue 3, done-when 3: parallel turns against the real service with two uvicorn workers on PostgreSQL.

Fifty turns race for one conversation while fifty others each start their own. Only PostgreSQL's
advisory lock can serialise the first fifty across the two worker processes, so this is the test of
it: each racing turn either runs alone or gets 409 once `CONVERSATION_LOCK_TIMEOUT_S` has passed, and
the conversation ends up holding exactly the answered turns, each whole and none interleaved.
How many of the fifty get through before the bound depends on the machine's speed, so a second test
makes the 409 certain: the test process itself holds the conversation, as a turn on a third replica would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from service.agent.locks import advisory_key
from service.db import Database
from tests.reliability.service_process import ServiceProcess, cpu_seconds, running_service
from tests.reliability.turns import (
    TurnOutcome,
    assert_error_shape,
    client,
    match_answers,
    send_turn,
    stored_turns,
    todo_titles,
)

pytestmark = pytest.mark.slow

TURNS = 50
# Long enough for a good share of the racing turns to get through while fifty other turns load both
# workers (each racing turn that runs is one more chance to interleave), short enough to keep the test short.
LOCK_TIMEOUT_S = 3.0
# What a turn may take besides waiting for its lock: auth, loading the conversation, the turn itself,
# all on two busy CPUs shared by two workers, PostgreSQL and this test.
TURN_SLACK_S = 8.0
# A worker that took a share of the traffic used at least this much CPU for it (serving ~50 turns uses seconds).
SERVING_CPU_S = 0.1


@pytest.fixture(scope="module")
def service(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    settings = {
        "DATABASE_URL": postgres_url,
        "MODEL_PROVIDER": "offline",
        "CONVERSATION_LOCK_TIMEOUT_S": str(LOCK_TIMEOUT_S),
    }
    with running_service(tmp_path_factory.mktemp("service"), settings, workers=2) as running:
        yield running


def assert_within_bound(outcome: TurnOutcome) -> None:
    """Answered, or refused as busy once the bound passed (not before it: the turn did wait)."""
    assert outcome.status in (200, 409), outcome
    if outcome.status == 409:
        assert_error_shape(outcome, 409, "conflict")
        assert outcome.latency_s >= LOCK_TIMEOUT_S * 0.95, f"409 before the bound: {outcome}"
    assert outcome.latency_s <= LOCK_TIMEOUT_S + TURN_SLACK_S, f"waited past the bound: {outcome}"


def _titles(outcomes: list[TurnOutcome]) -> list[str]:
    """The todo each answered "add <title>" turn created (the offline model capitalises titles)."""
    return sorted(o.message.removeprefix("add ").casefold() for o in outcomes if o.status == 200)


async def test_parallel_turns_on_one_and_on_many_conversations(service: ServiceProcess, postgres_url: str) -> None:
    shared_user, solo_user = uuid.uuid4(), uuid.uuid4()
    shared_auth, solo_auth = service.auth(shared_user), service.auth(solo_user)
    async with client(service.base_url) as http:
        first = await send_turn(http, shared_user, shared_auth, "add shared probe 0")
        assert first.status == 200, first
        conversation = first.body["conversation_id"]

        workers = service.worker_pids()
        assert len(workers) == 2, f"expected 2 uvicorn workers, found {workers}"
        cpu_before = {pid: cpu_seconds(pid) for pid in workers}
        racing = [
            send_turn(http, shared_user, shared_auth, f"add shared probe {n}", conversation)
            for n in range(1, TURNS + 1)
        ]
        parallel = [send_turn(http, solo_user, solo_auth, f"add solo probe {n}") for n in range(1, TURNS + 1)]
        outcomes = await asyncio.gather(*racing, *parallel)
        cpu_used = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in workers}

    shared, solo = [first, *outcomes[:TURNS]], outcomes[TURNS:]
    answered = [o for o in shared if o.status == 200]
    busy = [o for o in shared if o.status == 409]
    waits = [o.latency_s for o in busy] or [0.0]
    print(
        f"\none conversation: {len(answered)} answered, {len(busy)} got 409; "
        f"409 after {min(waits):.2f}-{max(waits):.2f} s"
        f"; slowest answer {max(o.latency_s for o in answered):.2f} s\n"
        f"distinct conversations: {sum(o.status == 200 for o in solo)}/{TURNS} answered, "
        f"slowest {max(o.latency_s for o in solo):.2f} s\n"
        f"CPU seconds per worker: { {pid: round(s, 2) for pid, s in cpu_used.items()} }"
    )

    # Every racing turn was answered or refused as busy, and none waited past the bound.
    for outcome in shared:
        assert_within_bound(outcome)
    assert len(answered) >= 2, "no racing turn got through: the first to ask should never wait"
    # Different conversations never wait for each other.
    assert all(o.status == 200 for o in solo), [o for o in solo if o.status != 200]

    # Stored: exactly the answered turns, each once, whole, contiguous, as answered.
    for user, outcomes_of_user in ((shared_user, shared), (solo_user, solo)):
        turns = await stored_turns(postgres_url, user)
        lost, unanswered = match_answers(turns, outcomes_of_user)
        assert not lost, f"answered but not stored: {lost}"
        assert not unanswered, f"stored but not answered 200: {[t.user_message for t in unanswered]}"
    # ... and exactly one todo per answered "add" turn: a refused turn ran no tool.
    assert sorted(t.casefold() for t in await todo_titles(postgres_url, shared_user)) == _titles(shared)
    assert sorted(t.casefold() for t in await todo_titles(postgres_url, solo_user)) == _titles(solo)

    # Both workers served: the kernel spread the connections over the two processes.
    assert all(seconds >= SERVING_CPU_S for seconds in cpu_used.values()), cpu_used


async def test_a_turn_gets_409_while_another_process_holds_its_conversation(
    service: ServiceProcess, postgres_url: str
) -> None:
    """The advisory lock alone, across processes: held here, a worker must wait the bound, then refuse."""
    user = uuid.uuid4()
    auth = service.auth(user)
    database = Database(postgres_url)
    async with client(service.base_url) as http:
        first = await send_turn(http, user, auth, "add held probe 0")
        assert first.status == 200, first
        conversation = first.body["conversation_id"]
        key = {"key": advisory_key(uuid.UUID(conversation))}
        try:
            async with database.engine.connect() as held:
                held = await held.execution_options(isolation_level="AUTOCOMMIT")
                assert (await held.execute(text("SELECT pg_try_advisory_lock(:key)"), key)).scalar_one()
                refused = await send_turn(http, user, auth, "add held probe 1", conversation)
                await held.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            after = await send_turn(http, user, auth, "add held probe 2", conversation)
        finally:
            await database.dispose()
    print(f"\nheld by another process: 409 after {refused.latency_s:.2f} s (bound {LOCK_TIMEOUT_S} s)")
    assert refused.status == 409, refused
    assert_within_bound(refused)
    assert after.status == 200, after
    lost, unanswered = match_answers(await stored_turns(postgres_url, user), [first, refused, after])
    assert not lost and not unanswered, (lost, unanswered)
