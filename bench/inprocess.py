"""Measurements inside the benchmark process: the SDK floor, the SQLAlchemySession turn, `list_todos`.

- The SDK floor: a bare `Runner.run(agent, "add buy milk")` with no memory, no guardrails, no tracing
  and no HTTP: the spec's agent with the service's real tools (so its `add_todo` writes the todo to the
  same database, as the turn must) and the same model. `sdk_only` is the same with stub tools that
  touch no database: the SDK's own cost.
- The straightforward alternative in-process: that turn with `SQLAlchemySession` as memory.
- `list_todos`: the tool itself, invoked as the SDK invokes it, for a user with 10 and with 100,000 todos.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from agents.tool_context import ToolContext

from agents import FunctionTool, Model, RunConfig, Runner
from bench.apps import plain_agent, sdk_session
from bench.data import CHAT_MESSAGE
from service.agent.context import TurnContext
from service.agent.tools import ALL_TOOLS
from service.db import Database

WARMUP_TURNS = 10


@dataclass
class RunStats:
    concurrency: int
    count: int
    duration_s: float
    per_s: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    cpu_ms: float  # this process's CPU time per call (its database's, for PostgreSQL, is not in it)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _stats(latencies: list[float], concurrency: int, elapsed: float, cpu_s: float) -> RunStats:
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return RunStats(
        concurrency=concurrency,
        count=len(latencies),
        duration_s=elapsed,
        per_s=len(latencies) / elapsed,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        mean_ms=statistics.fmean(latencies) * 1000,
        cpu_ms=cpu_s * 1000 / max(len(latencies), 1),
    )


async def timed(call: Callable[[], Awaitable[Any]], *, concurrency: int, duration_s: float) -> RunStats:
    """`concurrency` tasks calling `call` back to back for `duration_s`, after a short warm-up."""
    for _ in range(WARMUP_TURNS):
        await call()
    latencies: list[float] = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _stats(latencies, concurrency, time.perf_counter() - start, time.process_time() - cpu_start)


def _context(database: Database, user_id: uuid.UUID) -> TurnContext:
    return TurnContext(user_id=user_id, db=database, today=datetime.now(UTC).date())


def stub_tools() -> list[FunctionTool]:
    """The service's tools with the same names and schemas, answering at once without a database."""

    async def invoke(_ctx: Any, arguments: str) -> str:
        title = json.loads(arguments or "{}").get("title", "")
        todo = {"id": str(uuid.uuid4()), "title": title, "description": None, "completed": False, "due_date": None}
        return json.dumps({"todo": todo}, separators=(",", ":"))

    return [
        FunctionTool(
            name=tool.name,
            description=tool.description,
            params_json_schema=tool.params_json_schema,
            on_invoke_tool=invoke,
            strict_json_schema=tool.strict_json_schema,
        )
        for tool in ALL_TOOLS.values()
    ]


async def floor(
    url: str | None, user_id: uuid.UUID, model: Model, *, concurrency: int, duration_s: float, stub: bool = False
) -> RunStats:
    """Bare `Runner.run`: no memory, no guardrails, no tracing; real tools on `url`, or stubs."""
    database = Database(url or "sqlite+aiosqlite:///:memory:")
    agent = plain_agent(stub_tools() if stub else None)
    run_config = RunConfig(model=model, tracing_disabled=True)

    async def turn() -> None:
        await Runner.run(agent, CHAT_MESSAGE, context=_context(database, user_id), run_config=run_config)

    try:
        return await timed(turn, concurrency=concurrency, duration_s=duration_s)
    finally:
        await database.dispose()


async def sqlalchemy_session_turns(
    url: str, user_ids: list[uuid.UUID], model: Model, *, concurrency: int, duration_s: float
) -> RunStats:
    """The same turn with the SDK's `SQLAlchemySession` as memory, one conversation per user."""
    database = Database(url)
    agent = plain_agent()
    run_config = RunConfig(model=model, tracing_disabled=True)
    conversations = [(user_id, str(uuid.uuid4())) for user_id in user_ids]
    await sdk_session(database.engine, str(uuid.uuid4()), create_tables=True).get_items()
    counter = 0

    async def turn() -> None:
        nonlocal counter
        user_id, conversation_id = conversations[counter % len(conversations)]
        counter += 1
        session = sdk_session(database.engine, conversation_id)
        await Runner.run(
            agent, CHAT_MESSAGE, session=session, context=_context(database, user_id), run_config=run_config
        )

    try:
        return await timed(turn, concurrency=concurrency, duration_s=duration_s)
    finally:
        await database.dispose()


async def list_todos_calls(url: str, user_id: uuid.UUID, arguments: dict[str, Any], *, duration_s: float) -> RunStats:
    """The `list_todos` tool called back to back, as the SDK calls it (JSON arguments in, JSON out)."""
    database = Database(url)
    tool = ALL_TOOLS["list_todos"]
    raw = json.dumps(arguments)

    async def call() -> None:
        context = ToolContext(
            context=_context(database, user_id), tool_name=tool.name, tool_call_id="call_bench", tool_arguments=raw
        )
        output = await tool.on_invoke_tool(context, raw)
        if '"todos"' not in output:
            raise RuntimeError(f"list_todos failed: {output}")

    try:
        return await timed(call, concurrency=1, duration_s=duration_s)
    finally:
        await database.dispose()
