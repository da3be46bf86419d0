"""`AgentMessageSession` against everything the SDK's `Session` protocol promises a caller.

Written here, not ported: ordering, `limit` (0, within, beyond the history), pop and clear, empty adds,
concurrent adds and pops, isolation between conversations and users, unicode and large items, and the
SDK's runner driving the session itself through `Runner.run`, `run_sync` and `run_streamed`. Where we
differ from the SDK's reference sessions by design (the pair-safe window), a test says so.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from agents import Agent, Runner
from service.agent.memory import AgentMessageSession
from service.agent.offline import OfflineModel
from service.db import Database
from service.errors import NotFound
from service.models import AgentSession
from tests.conftest import new_user
from tests.unit.test_memory import answer, call, new_conversation, output, user

T = TypeVar("T")


@pytest.fixture
async def session(database: Database, user_id: uuid.UUID) -> AgentMessageSession:
    return await new_conversation(database, user_id)


def messages(n: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [user(f"{prefix}{i}") if i % 2 == 0 else answer(f"{prefix}{i}") for i in range(n)]


def texts(items: list[Any]) -> list[str]:
    out = []
    for item in items:
        content = item["content"]
        out.append(content if isinstance(content, str) else content[0]["text"])
    return out


# --- ordering and limit ---------------------------------------------------------------------------------


async def test_items_come_back_in_the_order_they_were_added(session: AgentMessageSession) -> None:
    await session.add_items(messages(3))  # type: ignore[arg-type]
    await session.add_items(messages(3, "n"))  # type: ignore[arg-type]
    assert texts(await session.get_items()) == ["m0", "m1", "m2", "n0", "n1", "n2"]


async def test_limit_returns_the_latest_items_oldest_first(session: AgentMessageSession) -> None:
    await session.add_items(messages(10))  # type: ignore[arg-type]
    assert texts(await session.get_items(limit=3)) == ["m7", "m8", "m9"]
    assert texts(await session.get_items(limit=1)) == ["m9"]


async def test_limit_zero_returns_nothing(session: AgentMessageSession) -> None:
    """Issue 13 item 9: `items[-0:]` is the whole list, so limit=0 returned up to 8 items."""
    await session.add_items(messages(10))  # type: ignore[arg-type]
    assert await session.get_items(limit=0) == []


async def test_a_negative_limit_is_refused(session: AgentMessageSession) -> None:
    with pytest.raises(ValueError):
        await session.get_items(limit=-1)


async def test_limit_larger_than_the_history_returns_all_of_it(session: AgentMessageSession) -> None:
    await session.add_items(messages(4))  # type: ignore[arg-type]
    assert texts(await session.get_items(limit=100)) == ["m0", "m1", "m2", "m3"]
    assert texts(await session.get_items(limit=None)) == ["m0", "m1", "m2", "m3"]


async def test_an_empty_session_has_no_items(session: AgentMessageSession) -> None:
    assert await session.get_items() == []
    assert await session.get_items(limit=5) == []


async def test_the_window_is_pair_safe_by_design(session: AgentMessageSession) -> None:
    """Where we differ from the SDK's sessions: they return exactly the last `limit` items; we never
    return a tool output without its call (a model API rejects it), so the window can come out shorter."""
    await session.add_items([user("q"), call("c1"), output("c1", {"todos": []}), answer("none")])  # type: ignore[list-item]
    window = await session.get_items(limit=2)
    # The SDK's reference sessions would answer [output c1, answer]; the orphan output is dropped here.
    assert texts(window) == ["none"] and window[0]["type"] == "message"
    assert [i.get("type") for i in await session.get_items(limit=3)] == [
        "function_call",
        "function_call_output",
        "message",
    ]


# --- pop, clear, empty adds -------------------------------------------------------------------------------


async def test_pop_returns_the_latest_item_and_removes_it(session: AgentMessageSession) -> None:
    await session.add_items(messages(3))  # type: ignore[arg-type]
    popped = await session.pop_item()
    assert popped is not None and texts([popped]) == ["m2"]
    assert texts(await session.get_items()) == ["m0", "m1"]


async def test_pop_on_an_empty_session_is_none(session: AgentMessageSession) -> None:
    assert await session.pop_item() is None


async def test_clear_removes_everything_and_the_session_stays_usable(session: AgentMessageSession) -> None:
    await session.add_items(messages(5))  # type: ignore[arg-type]
    await session.clear_session()
    assert await session.get_items() == []
    await session.add_items([user("again")])  # type: ignore[list-item]
    assert texts(await session.get_items()) == ["again"]


async def test_adding_no_items_is_a_no_op(session: AgentMessageSession) -> None:
    """Issue 13 item 10: an empty add ran an INSERT of defaults and raised."""
    await session.add_items([])
    assert await session.save_turn([]) == []
    assert await session.get_items() == []


# --- concurrency ------------------------------------------------------------------------------------------


async def test_concurrent_adds_lose_nothing(session: AgentMessageSession) -> None:
    await asyncio.gather(*(session.add_items(messages(2, f"t{n}-")) for n in range(8)))  # type: ignore[arg-type]
    got = texts(await session.get_items())
    assert len(got) == 16
    for n in range(8):  # each add stays together and in order
        assert got.index(f"t{n}-1") == got.index(f"t{n}-0") + 1


async def test_concurrent_pops_never_return_an_item_twice(session: AgentMessageSession) -> None:
    """Issue 13 item 11: select-then-delete handed the same last item to several poppers."""
    await session.add_items(messages(6))  # type: ignore[arg-type]
    popped = await asyncio.gather(*(session.pop_item() for _ in range(8)))
    got = [t for t in texts([p for p in popped if p is not None])]
    assert sorted(got) == sorted(f"m{i}" for i in range(6))
    assert popped.count(None) == 2
    assert await session.get_items() == []


# --- isolation --------------------------------------------------------------------------------------------


async def test_conversations_do_not_see_each_other(database: Database, user_id: uuid.UUID) -> None:
    first, second = await new_conversation(database, user_id), await new_conversation(database, user_id)
    await first.add_items([user("first")])  # type: ignore[list-item]
    await second.add_items([user("second")])  # type: ignore[list-item]
    assert texts(await first.get_items()) == ["first"]
    await second.clear_session()
    assert texts(await first.get_items()) == ["first"]
    assert await second.pop_item() is None


async def test_another_users_handle_on_a_conversation_reads_and_changes_nothing(
    session: AgentMessageSession, database: Database
) -> None:
    """Issue 13 item 12: `add_items` through another user's handle inserted rows into the conversation."""
    await session.add_items([user("mine")])  # type: ignore[list-item]
    async with database.reader() as db:
        before = (await db.get(AgentSession, session.conversation_id)).updated_at  # type: ignore[union-attr]
    intruder = AgentMessageSession(database, await new_user(database), session.conversation_id)

    assert await intruder.get_items() == []
    assert await intruder.pop_item() is None
    await intruder.clear_session()
    with pytest.raises(NotFound):
        await intruder.add_items([user("planted")])  # type: ignore[list-item]

    assert texts(await session.get_items()) == ["mine"]
    async with database.reader() as db:
        after = (await db.get(AgentSession, session.conversation_id)).updated_at  # type: ignore[union-attr]
    assert after == before


async def test_adding_to_a_missing_conversation_is_not_found(database: Database, user_id: uuid.UUID) -> None:
    with pytest.raises(NotFound):
        await AgentMessageSession(database, user_id, uuid.uuid4()).add_items([user("x")])  # type: ignore[list-item]


# --- content ----------------------------------------------------------------------------------------------


async def test_unicode_survives(session: AgentMessageSession) -> None:
    text = "Ünïcödé ✓ — 日本語のタスク 🚀 \"quotes\" 'single' \\backslash\\ \u200b zero-width"
    await session.add_items([user(text), answer(text)])  # type: ignore[list-item]
    assert texts(await session.get_items()) == [text, text]


async def test_large_items_survive(session: AgentMessageSession) -> None:
    big = "x" * 200_000
    payload = {"todos": [{"title": f"todo {n}", "description": "d" * 500} for n in range(200)]}
    items = [user(big), call("c1"), output("c1", payload), answer(big)]
    await session.add_items(items)  # type: ignore[arg-type]
    assert await session.get_items() == items
    assert json.loads(str(dict((await session.get_items())[2])["output"])) == payload


# --- the SDK's runner driving the session -----------------------------------------------------------------


def offline_agent() -> Agent[Any]:
    return Agent(name="protocol", instructions="Help with todos.", model=OfflineModel())


async def test_runner_run_reads_and_writes_the_session(session: AgentMessageSession) -> None:
    agent = offline_agent()
    first = await Runner.run(agent, "hello", session=session)
    assert first.final_output
    stored = await session.get_items()
    assert stored[0] == {"role": "user", "content": "hello"}
    assert stored[-1]["type"] == "message" and stored[-1]["role"] == "assistant"

    await Runner.run(agent, "thanks", session=session)
    again = await session.get_items()
    assert again[: len(stored)] == stored  # the second turn was appended, the first kept as it was
    assert {"role": "user", "content": "thanks"} in again


async def test_runner_run_streamed_writes_the_session(session: AgentMessageSession) -> None:
    result = Runner.run_streamed(offline_agent(), "hello", session=session)
    async for _ in result.stream_events():
        pass
    stored = await session.get_items()
    assert stored[0] == {"role": "user", "content": "hello"}
    assert texts([stored[-1]]) == [str(result.final_output)]


def run_in_fresh_loop(database_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work` on a `Database` of its own loop: an async engine's connections belong to the loop that made them."""

    async def scoped() -> T:
        database = Database(database_url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(scoped())


def test_runner_run_sync_writes_the_session(database_url: str) -> None:
    async def prepare(database: Database) -> uuid.UUID:
        return (await new_conversation(database, await new_user(database))).conversation_id

    async def owner(database: Database) -> uuid.UUID:
        async with database.reader() as db:
            return (await db.get(AgentSession, conversation_id)).user_id  # type: ignore[union-attr]

    conversation_id = run_in_fresh_loop(database_url, prepare)
    user_id = run_in_fresh_loop(database_url, owner)
    database = Database(database_url)
    session = AgentMessageSession(database, user_id, conversation_id)
    result = Runner.run_sync(offline_agent(), "hello", session=session)
    assert result.final_output

    async def stored(database: Database) -> list[Any]:
        return await AgentMessageSession(database, user_id, conversation_id).get_items()

    items = run_in_fresh_loop(database_url, stored)
    assert items[0] == {"role": "user", "content": "hello"}
    assert texts([items[-1]]) == [str(result.final_output)]


@pytest.mark.parametrize("value", [0, 1, -3, "many"])
def test_the_specs_history_limit_is_validated(tmp_path: Any, value: Any) -> None:
    """Issue 13 item 9: a spec's `history_limit` of 0 or less was taken as it was."""
    from service.agent.spec import SPEC_PATH, load_spec

    text = SPEC_PATH.read_text(encoding="utf-8")
    front, body = text.split("---", 2)[1:]
    lines = [line for line in front.splitlines() if not line.startswith("history_limit:")]
    spec = tmp_path / "spec.md"
    spec.write_text("---" + "\n".join([*lines, f"history_limit: {value}"]) + "\n---" + body, encoding="utf-8")
    with pytest.raises(ValueError, match="history_limit"):
        load_spec(spec)
