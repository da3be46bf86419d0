"""Chat turns over real HTTP, and what the database holds afterwards, checked turn by turn.

A turn is stored as contiguous rows of its conversation (ordered by `seq`): the user's message, then
tool calls each followed by its output, then the answer. `stored_turns` reads a user's rows and cuts
them at user messages, failing on anything else (an orphan row, a call without its output, a turn
without its answer, a message inside another turn); `match_answers` ties each 200 answer to the one
stored turn it reported, so a lost, duplicated or interleaved turn cannot go unnoticed.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import col, select

from service.db import Database
from service.models import AgentMessage, Task

TOOL_KINDS = ("function_call", "function_call_output")
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TurnOutcome:
    """One chat request as the client saw it: what was sent, the status and body, and when."""

    message: str
    status: int  # 0: no HTTP answer at all (connection failed)
    body: dict[str, Any]
    sent_at: float  # time.monotonic()
    answered_at: float

    @property
    def latency_s(self) -> float:
        return self.answered_at - self.sent_at

    @property
    def error_code(self) -> str | None:
        error = self.body.get("error")
        return error.get("code") if isinstance(error, dict) else None


def client(base_url: str) -> httpx.AsyncClient:
    """A client that opens as many connections as the tests send turns at once (so none queue client-side)."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"not_json": response.text[:500]}
    return body if isinstance(body, dict) else {"not_an_object": body}


async def send_turn(
    http: httpx.AsyncClient,
    user_id: uuid.UUID,
    auth: dict[str, str],
    message: str,
    conversation_id: str | None = None,
) -> TurnOutcome:
    """`POST /chat`, never raising: a failed connection is an outcome too (status 0)."""
    sent_at = time.monotonic()
    try:
        response = await http.post(
            f"/api/{user_id}/chat", json={"message": message, "conversation_id": conversation_id}, headers=auth
        )
    except httpx.TransportError as exc:
        return TurnOutcome(message, 0, {"transport_error": repr(exc)}, sent_at, time.monotonic())
    return TurnOutcome(message, response.status_code, _json(response), sent_at, time.monotonic())


def assert_error_shape(outcome: TurnOutcome, status: int, code: str) -> None:
    """A refused turn answers the documented JSON error, with no internals."""
    assert outcome.status == status, outcome
    assert set(outcome.body) == {"error"}, outcome
    assert set(outcome.body["error"]) == {"code", "message"}, outcome
    assert outcome.error_code == code, outcome
    assert "Traceback" not in str(outcome.body), outcome


@dataclass(frozen=True)
class StoredTurn:
    conversation_id: uuid.UUID
    rows: list[AgentMessage]

    @property
    def user_message(self) -> str | None:
        return self.rows[0].content

    @property
    def answer_id(self) -> uuid.UUID:
        return self.rows[-1].id

    @property
    def call_ids(self) -> list[str | None]:
        return [row.call_id for row in self.rows if row.kind == "function_call"]


def split_turns(conversation_id: uuid.UUID, rows: list[AgentMessage]) -> list[StoredTurn]:
    """Cut a conversation's rows (in `seq` order) into whole turns; an AssertionError names the first flaw."""
    starts = [i for i, row in enumerate(rows) if row.kind == "message" and row.role == "user"]
    assert not rows or starts[:1] == [0], f"{conversation_id}: rows before its first user message: {rows[:3]}"
    turns = [StoredTurn(conversation_id, rows[a:b]) for a, b in zip(starts, [*starts[1:], len(rows)], strict=True)]
    for turn in turns:
        where = f"conversation {conversation_id}, turn {turn.user_message!r}"
        answer, middle = turn.rows[-1], turn.rows[1:-1]
        assert len(turn.rows) >= 2 and answer.kind == "message" and answer.role == "assistant", (
            f"{where}: does not end with an answer: {[(r.kind, r.role) for r in turn.rows]}"
        )
        assert all(row.kind in TOOL_KINDS for row in middle), f"{where}: a message among its tool items"
        open_calls: set[str | None] = set()
        for row in middle:
            if row.kind == "function_call":
                assert row.call_id not in open_calls, f"{where}: call {row.call_id} made twice"
                open_calls.add(row.call_id)
            else:
                assert row.call_id in open_calls, f"{where}: output {row.call_id} without its call before it"
                open_calls.remove(row.call_id)
        assert not open_calls, f"{where}: calls without their output: {open_calls}"
    return turns


async def stored_turns(database_url: str, user_id: uuid.UUID) -> dict[uuid.UUID, list[StoredTurn]]:
    """Every conversation of `user_id`, as whole turns (asserted), keyed by conversation id."""
    database = Database(database_url)
    try:
        async with database.session() as db:
            query = select(AgentMessage).where(col(AgentMessage.user_id) == user_id).order_by(col(AgentMessage.seq))
            rows = list((await db.exec(query)).all())
    finally:
        await database.dispose()
    by_conversation: dict[uuid.UUID, list[AgentMessage]] = {}
    for row in rows:
        by_conversation.setdefault(row.session_id, []).append(row)
    return {conversation: split_turns(conversation, items) for conversation, items in by_conversation.items()}


async def todo_titles(database_url: str, user_id: uuid.UUID) -> list[str]:
    database = Database(database_url)
    try:
        async with database.session() as db:
            return list((await db.exec(select(Task.title).where(col(Task.user_id) == user_id))).all())
    finally:
        await database.dispose()


def match_answers(
    turns: dict[uuid.UUID, list[StoredTurn]], outcomes: list[TurnOutcome]
) -> tuple[list[TurnOutcome], list[StoredTurn]]:
    """Check every 200 answer against the one stored turn it reported; return what is left on both sides.

    Messages are unique per test, so a user message stored twice is a duplicated turn. Returned:
    the 200 answers with no stored turn (lost), and the stored turns no 200 answered (stored although
    the client was told otherwise). Both should normally be empty; the caller decides.
    """
    stored = {turn.user_message: turn for conversation in turns.values() for turn in conversation}
    counts = Counter(turn.user_message for conversation in turns.values() for turn in conversation)
    duplicated = {message: n for message, n in counts.items() if n > 1}
    assert not duplicated, f"user messages stored more than once: {duplicated}"
    lost = []
    answered = set()
    for outcome in outcomes:
        if outcome.status != 200:
            continue
        turn = stored.get(outcome.message)
        if turn is None:
            lost.append(outcome)
            continue
        answered.add(outcome.message)
        body = outcome.body
        assert str(turn.conversation_id) == body["conversation_id"], (outcome, turn.conversation_id)
        assert str(turn.answer_id) == body["message_id"], f"{outcome.message!r}: answer is not the turn's last row"
        assert turn.call_ids == [call["id"] for call in body["tool_calls"]], f"{outcome.message!r}: other tool calls"
    unanswered = [turn for message, turn in stored.items() if message not in answered]
    return lost, unanswered
