"""One agent turn: load memory, run the agent with the user's context, store the turn, report it.

The turn passes history to `Runner.run` itself instead of handing the SDK the session, so that all
of a turn's items (user message, tool calls, outputs, answer) are written in one transaction after
the run: a failed run leaves no half turn, and a fallback run stores the user's message once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openai
from agents.items import TResponseInputItem

from agents import Agent, MaxTurnsExceeded, ModelSettings, RunConfig, RunContextWrapper, Runner
from service import conversations
from service.agent.context import TurnContext, current_date_line
from service.agent.memory import AgentMessageSession, complete_pairs
from service.agent.providers import OFFLINE_MODEL_NAME, FallbackModel, ModelFactory
from service.agent.spec import AgentSpec, load_spec
from service.agent.tools import ALL_TOOLS
from service.config import Settings
from service.db import Database
from service.errors import ModelUnavailable
from service.telemetry import current_trace_id, tracer
from service.todos import as_utc
from service.users import get_context

log = logging.getLogger(__name__)

TITLE_CHARS = 60


@dataclass
class TurnResult:
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    response: str
    timestamp: datetime
    model: str
    using_stub: bool
    trace_id: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    guardrail: dict[str, str] | None = None


def _parsed(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def tool_activity(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The turn's tool calls and their results, in the shapes of the chat response."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    calls = [
        {"id": i["call_id"], "name": i["name"], "arguments": _parsed(i.get("arguments"))}
        for i in items
        if i.get("type") == "function_call"
    ]
    results = [
        {"call_id": i["call_id"], "name": names.get(i["call_id"]), "output": _parsed(i.get("output"))}
        for i in items
        if i.get("type") == "function_call_output"
    ]
    return calls, results


def assistant_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _conversation_title(message: str) -> str:
    title = " ".join(message.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


class AgentRuntime:
    """Everything a turn needs that is built once per process: the spec, the agent, the models."""

    def __init__(self, settings: Settings, database: Database, spec: AgentSpec | None = None) -> None:
        self.spec = spec or load_spec()
        self.database = database
        self.models = ModelFactory(settings, self.spec.model)
        self.history_limit = settings.agent_history_limit or self.spec.history_limit
        self.agent = Agent[TurnContext](
            name=self.spec.name,
            instructions=self._instructions,
            tools=[ALL_TOOLS[name] for name in self.spec.tools],
            model_settings=ModelSettings(
                temperature=settings.agent_temperature
                if settings.agent_temperature is not None
                else self.spec.temperature,
                max_tokens=settings.agent_max_tokens or self.spec.max_tokens,
            ),
        )
        # Turns of one conversation run one at a time in this process.
        self._locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    def _instructions(self, ctx: RunContextWrapper[TurnContext], _agent: Agent[TurnContext]) -> str:
        return f"{self.spec.instructions}\n\n{current_date_line(ctx.context)}"

    def _lock(self, conversation_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    async def _prepare(
        self, user_id: uuid.UUID, message: str, conversation_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, TurnContext]:
        async with self.database.session() as db:
            if conversation_id is None:
                conversation_id = (
                    await conversations.create_conversation(db, user_id, _conversation_title(message))
                ).id
            else:
                await conversations.get_conversation(db, user_id, conversation_id)
            user_context = await get_context(db, user_id)
        timezone = user_context.timezone or "UTC"
        today = datetime.now(ZoneInfo(timezone)).date()
        return conversation_id, TurnContext(user_id=user_id, db=self.database, today=today, timezone=timezone)

    async def run_turn(self, user_id: uuid.UUID, message: str, conversation_id: uuid.UUID | None) -> TurnResult:
        conversation_id, context = await self._prepare(user_id, message, conversation_id)
        with tracer.start_as_current_span(
            f"invoke_agent {self.spec.name}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": self.spec.name,
                "gen_ai.conversation.id": str(conversation_id),
            },
        ):
            async with self._lock(conversation_id):
                return await self._run_locked(conversation_id, context, message)

    async def _run_locked(self, conversation_id: uuid.UUID, context: TurnContext, message: str) -> TurnResult:
        memory = AgentMessageSession(self.database, context.user_id, conversation_id)
        # The limit counts the new message too: the model's first call sees at most `history_limit` items.
        history = await memory.get_items(limit=self.history_limit - 1)
        user_item: TResponseInputItem = {"role": "user", "content": message}
        model = self.models.model_for_turn()
        try:
            result = await Runner.run(
                self.agent,
                [*history, user_item],
                context=context,
                max_turns=self.spec.max_turns,
                run_config=RunConfig(model=model, tracing_disabled=True, workflow_name=self.spec.name),
            )
            new_items = [item.to_input_item() for item in result.new_items]
            answer = str(result.final_output)
        except openai.APIError as exc:
            log.error("model provider error in conversation %s", conversation_id, exc_info=exc)
            raise ModelUnavailable("the model provider could not answer; try again later") from None
        except MaxTurnsExceeded as exc:
            log.warning("turn hit max_turns=%s in conversation %s", self.spec.max_turns, conversation_id)
            done = [item.to_input_item() for item in exc.run_data.new_items] if exc.run_data else []
            answer = "Sorry, that took more steps than I am allowed in one go. Could you split it up?"
            new_items = [*complete_pairs([dict(i) for i in done]), assistant_message(answer)]  # type: ignore[list-item]

        fallback_reason = model.fallback_reason if isinstance(model, FallbackModel) else None
        using_stub = self.models.kind == "offline" or fallback_reason is not None
        rows = await memory.save_turn([user_item, *new_items])
        calls, results = tool_activity([dict(i) for i in new_items])
        return TurnResult(
            conversation_id=conversation_id,
            message_id=rows[-1].id,
            response=answer,
            timestamp=as_utc(rows[-1].created_at),
            model=OFFLINE_MODEL_NAME if using_stub else self.models.model_name,
            using_stub=using_stub,
            trace_id=current_trace_id(),
            tool_calls=calls,
            tool_results=results,
        )

    async def aclose(self) -> None:
        await self.models.aclose()
