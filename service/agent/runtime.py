"""One agent turn: load memory, run the agent with the user's context, store the turn, report it.

`AgentRuntime.turn_events` is the one turn pipeline: `POST /chat` consumes it whole and answers its
`done` event (`run_turn`); `POST /chat/stream` forwards every event as it happens (`stream_turn`).
Both therefore share auth-checked preparation, memory, fallback, storage and per-conversation
serialization; only the model call differs (`Runner.run` or `Runner.run_streamed`).

The turn passes history to the runner itself instead of handing the SDK the session, so that all
of a turn's items (user message, tool calls, outputs, answer) are written in one transaction after
the run: a failed run leaves no half turn, and a fallback run stores the user's message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openai
from agents.items import TResponseInputItem
from agents.result import RunResultBase

from agents import (
    Agent,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    Model,
    ModelBehaviorError,
    ModelProvider,
    ModelSettings,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    Runner,
    RunState,
    ToolExecutionConfig,
)
from service import changes, conversations
from service.agent import approvals
from service.agent.approvals import Resume
from service.agent.context import TurnContext, current_date_line
from service.agent.guardrails import (
    OUTPUT_SCOPE,
    REFUSALS,
    USER_SCOPE,
    OutputGate,
    SeenToolOutputs,
    index_of,
    item_texts,
    output_scope,
    user_scope,
)
from service.agent.locks import ConversationLocks
from service.agent.markup import MarkupFilter
from service.agent.memory import AgentMessageSession, complete_pairs
from service.agent.offline import answers as offline_answers
from service.agent.offline.model import MODEL_NAME as OFFLINE_MODEL_NAME
from service.agent.providers import FallbackModel, SettingsModelProvider, configured_model_name
from service.agent.recheck import AnswerRecheck
from service.agent.repeats import stop_when_repeating
from service.agent.snapshot import Snapshot, read_snapshot, turn_facts_item
from service.agent.spec import AgentSpec, load_spec
from service.agent.tools import ALL_TOOLS
from service.agent.truthful import truthful_answer
from service.agent.turn_items import (
    TurnEvent,
    TurnResult,
    assistant_message,
    client_event,
    completed_tool_items,
    tool_activity,
    tool_events,
    tool_items,
)
from service.config import Settings
from service.db import Database
from service.errors import ModelUnavailable
from service.telemetry import (
    TurnTracingHooks,
    agent_turn,
    agents_tracing_enabled,
    capture_message_content,
    current_trace_id,
)
from service.todos import as_utc
from service.users import stored_timezone

log = logging.getLogger(__name__)

# How long shutdown waits for streamed turns whose client went away before cancelling them.
DETACHED_DRAIN_S = 30.0


# The words of the tool-calling protocol itself, which weak models echo back as text.
PROTOCOL_WORDS = "function name arguments parameters properties type call tool_call tool_response output result"


def own_words(spec: AgentSpec) -> list[str]:
    """What every turn's model is shown that holds no user's data, for `TurnContext.seen_base`.

    The instructions, the tools as the model is given them, the protocol's words, and the offline model's
    phrasing (its answers module: every fixed word it writes, examples like "next page" included). A
    reply quoting any of them names nothing of anyone's, so `output_scope` must let it through.
    """
    tools = [ALL_TOOLS[name] for name in spec.tools]
    schemas = [json.dumps({"name": t.name, "description": t.description, **t.params_json_schema}) for t in tools]
    phrasing = Path(offline_answers.__file__).read_text(encoding="utf-8")
    return [spec.instructions, *schemas, PROTOCOL_WORDS, phrasing]


@dataclass(frozen=True)
class TurnHooks:
    """Callbacks run by the task that runs the turn, whether or not a client still listens.

    The chat routes use them to store an idempotent request's response, or to release its key.
    """

    on_done: Callable[[TurnResult], Awaitable[None]]
    on_failure: Callable[[], Awaitable[None]]


async def _observed(events: AsyncIterator[TurnEvent], hooks: TurnHooks | None) -> AsyncIterator[TurnEvent]:
    """`events`, telling `hooks` of the result before it is passed on, or of the failure."""
    try:
        async for event in events:
            if hooks is not None and isinstance(event.data, TurnResult):
                await hooks.on_done(event.data)
            yield event
    except BaseException:
        if hooks is not None:
            await hooks.on_failure()
        raise


async def _forward(queue: asyncio.Queue[TurnEvent | Exception | None]) -> AsyncIterator[TurnEvent]:
    """A detached turn's events, in order; its failure is re-raised here, where the client is."""
    while (item := await queue.get()) is not None:
        if isinstance(item, Exception):
            raise item
        yield item


class TurnRunHooks(approvals.ApprovalHooks, SeenToolOutputs):
    """The run's hooks: marking calls that wait for approval, and adding tool outputs to what the turn saw."""


class AgentRuntime:
    """Everything a turn needs that is built once per process: the spec, the agent, the models."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        spec: AgentSpec | None = None,
        clock: Callable[[], datetime] | None = None,
        model_provider: ModelProvider | None = None,
    ) -> None:
        self.spec = spec or load_spec()
        # Where "now" comes from (an aware datetime): evals pin it so dates in prompts and answers are stable.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.database = database
        # Each turn's model comes from `models` (the settings' provider unless one is given; closed with the
        # runtime); the settings still say whether it is the offline one (`using_stub`, no snapshot).
        self.model_kind = settings.resolved_provider
        self.model_name = configured_model_name(settings, self.spec.model)
        self.models = model_provider or SettingsModelProvider(settings, self.spec.model)
        self.history_limit = settings.agent_history_limit or self.spec.history_limit
        self.seen_base = index_of(own_words(self.spec))
        self.run_config = RunConfig(
            workflow_name=self.spec.name,
            # One call at a time, in the order the model wrote them: "delete X and add X" must not race on one
            # list, and a repeated call is the later one, in every run alike.
            tool_execution=ToolExecutionConfig(max_function_tool_concurrency=1),
        )
        self.agent = Agent[TurnContext](
            name=self.spec.name,
            instructions=self.spec.instructions,  # static: the date comes with the turn (`turn_facts_item`)
            tools=approvals.with_approvals([ALL_TOOLS[name] for name in self.spec.tools], settings.agent_approval),
            model_settings=ModelSettings(
                temperature=settings.agent_temperature
                if settings.agent_temperature is not None
                else self.spec.temperature,
                max_tokens=settings.agent_max_tokens or self.spec.max_tokens,
            ),
            input_guardrails=[user_scope],
            output_guardrails=[output_scope],
            hooks=TurnTracingHooks(),
            tool_use_behavior=stop_when_repeating,
        )
        self.recheck = AnswerRecheck(self.agent, self.spec.tools)
        self.locks = ConversationLocks(database, settings.conversation_lock_timeout_s)
        self.approval_mode = settings.agent_approval
        self.approval_ttl_s = settings.agent_approval_ttl_s
        self.run_hooks = TurnRunHooks()
        # Streamed turns run in tasks of their own, kept here so they are neither collected nor cut at shutdown.
        self._detached: set[asyncio.Task[None]] = set()

    def _run_config(self, model: Model) -> RunConfig:
        # A copy of the runtime's: building a RunConfig (or `dataclasses.replace`) resolves its type hints
        # again, about 0.6 ms a turn (3 % of the serving thread under load, bench.profile).
        config = copy.copy(self.run_config)
        config.model = model
        # SDK spans feed only our OpenTelemetry processor (see service.telemetry).
        config.tracing_disabled = not agents_tracing_enabled()
        config.trace_include_sensitive_data = capture_message_content()
        return config

    async def _prepare(
        self, user_id: uuid.UUID, message: str, conversation_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, TurnContext]:
        # The offline model reads the list through its tools; only a real model gets the snapshot.
        wants_snapshot = self.model_kind != "offline"
        snapshot: Snapshot | None = None
        # A new conversation gets its id here and is created with its first turn, when that is stored (`save_turn`).
        new_conversation = conversation_id is None
        conversation_id = conversation_id or uuid.uuid4()
        async with self.database.reader() as db:
            if new_conversation:
                user_timezone = await stored_timezone(db, user_id)
            else:  # one query: the conversation is the user's, and their timezone
                user_timezone = await conversations.timezone_for_turn(db, user_id, conversation_id)
            if wants_snapshot:
                snapshot = await read_snapshot(db, user_id)
        timezone = user_timezone or "UTC"
        today = self.clock().astimezone(ZoneInfo(timezone)).date()
        context = TurnContext(
            user_id=user_id,
            db=self.database,
            today=today,
            timezone=timezone,
            snapshot=snapshot,
            request=message or None,
            conversation_id=conversation_id,
            approval_mode=self.approval_mode,
            seen_base=self.seen_base,
            new_conversation=new_conversation,
        )
        return conversation_id, context

    async def run_turn(
        self,
        user_id: uuid.UUID,
        message: str | None,
        conversation_id: uuid.UUID | None,
        hooks: TurnHooks | None = None,
        resume: Resume | None = None,
    ) -> TurnResult:
        """The whole turn, answered at once (`POST /chat`).

        Reads the pipeline to its end rather than returning at `done`, so the span and the lock are
        left here, in this task, and not when the abandoned generator is collected.
        """
        result: TurnResult | None = None
        events = self.turn_events(user_id, message, conversation_id, stream=False, resume=resume)
        async for event in _observed(events, hooks):
            if isinstance(event.data, TurnResult):
                result = event.data
        if result is None:
            raise RuntimeError("the turn pipeline ended without a result")
        return result

    async def stream_turn(
        self,
        user_id: uuid.UUID,
        message: str | None,
        conversation_id: uuid.UUID | None,
        hooks: TurnHooks | None = None,
        resume: Resume | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """The turn's events as they happen (`POST /chat/stream`), from a task the caller does not own.

        A client that goes away mid-turn only stops reading: the turn runs to its end and is stored
        whole, exactly as if the client had stayed, so a conversation never holds a half turn and tools
        already run are never lost from its history. The first event (`conversation`) or the failure
        that prevents it (e.g. an unknown conversation) comes before anything else.
        """
        queue: asyncio.Queue[TurnEvent | Exception | None] = asyncio.Queue()

        async def run() -> None:
            try:
                events = self.turn_events(user_id, message, conversation_id, stream=True, resume=resume)
                async for event in _observed(events, hooks):
                    queue.put_nowait(event)
            except Exception as exc:
                queue.put_nowait(exc)
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(run(), name=f"turn for {user_id}")
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)
        return _forward(queue)

    async def turn_events(
        self,
        user_id: uuid.UUID,
        message: str | None,
        conversation_id: uuid.UUID | None,
        *,
        stream: bool,
        resume: Resume | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """The turn pipeline: `conversation`, then (`tool_call`, `tool_result`, `delta`)*, `guardrail`?,
        `approval`? (the turn paused for the user's yes), `done`.

        With `stream=False` the model answers in one piece, so only `conversation` and `done` come.
        The turn holds its conversation's lock until `done`, so a consumer must read to the end.
        `message` is None when the turn only resumes a paused run (`resume`, from the approvals route).
        """
        conversation_id, context = await self._prepare(user_id, message or "", conversation_id)
        # A new conversation is stored with its first turn (`save_turn`): until then no other turn can reach it, so
        # it needs no lock. The lock comes before the first event: a busy conversation is a 409 before a stream.
        async with contextlib.nullcontext() if context.new_conversation else self.locks.hold(conversation_id):
            yield TurnEvent("conversation", {"conversation_id": str(conversation_id)})
            with agent_turn(
                agent_name=self.spec.name,
                model=self.model_name,
                conversation_id=conversation_id,
                user_id=context.user_id,
            ) as turn:
                memory = AgentMessageSession(self.database, context.user_id, conversation_id)
                if resume is None and message is not None and not context.new_conversation:
                    resume = await approvals.answer_to_pending(self.database, user_id, conversation_id, message)
                user_items: list[TResponseInputItem] = [{"role": "user", "content": message}] if message else []
                run_input: list[TResponseInputItem] | RunState[Any, Any]
                turn_input: list[TResponseInputItem] = []
                # The limit counts the new message too: the model's first call sees at most `history_limit` items.
                history = [] if context.new_conversation else await memory.get_items(limit=self.history_limit - 1)
                date_line = current_date_line(context)
                # An agent object of the turn's own: the SDK checks each run's tools against every other run
                # of the same object, a scan as long as the number of turns in flight (the SDK's own advice).
                agent = copy.copy(self.agent)
                if resume is not None:
                    run_input = await approvals.restore(agent, resume.approval, context, resume.decisions)
                    context.approved = approvals.approved_todos(resume)
                else:
                    # The date and snapshot come last before the message, after everything a prompt cache can keep.
                    facts = turn_facts_item(date_line, context.snapshot)
                    turn_input = run_input = [*history, facts, *user_items]
                # What output_scope may let a reply name; tool outputs join as they come (SeenToolOutputs).
                context.seen.extend(
                    [
                        date_line,
                        str(conversation_id),
                        *([context.snapshot.text] if context.snapshot else []),
                        *item_texts([*history, *user_items]),
                    ]
                )
                model = self.models.get_model(self.model_name)
                run_options: dict[str, Any] = {
                    "context": context,
                    "hooks": self.run_hooks,
                    "max_turns": self.spec.max_turns,
                    "run_config": self._run_config(model),
                }
                interrupted: list[Any] = []
                paused: list[dict[str, Any]] = []
                state: RunState[Any, Any] | None = None
                try:
                    result: RunResultBase
                    if stream:
                        result = Runner.run_streamed(agent, run_input, **run_options)
                        names: dict[str, str] = {}
                        for call in resume.approval.calls if resume else ():  # their calls came before the pause
                            names[call["id"]] = call["tool"]
                            yield TurnEvent(
                                "tool_call", {"id": call["id"], "name": call["tool"], "arguments": call["arguments"]}
                            )
                        gate = OutputGate(context)  # no line naming others' data reaches the client
                        markup = MarkupFilter(self.model_kind != "offline")  # nor markup a local server lets through
                        async for sdk_event in result.stream_events():
                            if (event := client_event(sdk_event, names)) is None:
                                continue
                            if event.type == "delta" and isinstance(event.data, dict):
                                if released := markup.feed(await gate.feed(event.data["text"])):
                                    yield TurnEvent("delta", {"text": released})
                            else:
                                yield event
                        if rest := markup.feed(await gate.flush()) + markup.flush():
                            yield TurnEvent("delta", {"text": rest})
                    else:
                        result = await Runner.run(agent, run_input, **run_options)
                    new_items = approvals.run_items(result.new_items)
                    answer = str(result.final_output)
                    if interrupted := list(result.interruptions):
                        state = result.to_state()
                except openai.APIError as exc:
                    log.error("model provider error in conversation %s", conversation_id, exc_info=exc)
                    await changes.discard_turn(self.database, context.user_id, context.origin)
                    raise ModelUnavailable("the model provider could not answer; try again later") from None
                except MaxTurnsExceeded as exc:
                    log.warning("turn hit max_turns=%s in conversation %s", self.spec.max_turns, conversation_id)
                    answer = "Sorry, that took more steps than I am allowed in one go. Could you split it up?"
                    new_items = [*completed_tool_items(exc), assistant_message(answer)]
                except ModelBehaviorError as exc:
                    # The model's reply could not be used (cut off at max_tokens, an unknown tool): what its
                    # earlier calls did stands, and the user is told exactly that.
                    log.warning("model misbehaved in conversation %s: %s", conversation_id, exc)
                    done = completed_tool_items(exc)
                    answer = truthful_answer([dict(i) for i in done])
                    new_items = [*done, assistant_message(answer)]
                except InputGuardrailTripwireTriggered:
                    # Tripped before any model call: only the request and the refusal are stored.
                    context.record_guardrail(USER_SCOPE, REFUSALS[USER_SCOPE])
                    answer = REFUSALS[USER_SCOPE]
                    new_items = [assistant_message(answer)]
                except OutputGuardrailTripwireTriggered as exc:
                    # The user's own tool activity is kept; the blocked reply is neither stored nor answered
                    # (a stream sent only the lines before the leak: `OutputGate` held back the rest).
                    context.record_guardrail(OUTPUT_SCOPE, REFUSALS[OUTPUT_SCOPE])
                    answer = REFUSALS[OUTPUT_SCOPE]
                    new_items = [*completed_tool_items(exc), assistant_message(answer)]
                except Exception:
                    # The turn is not stored, so neither are its changes.
                    await changes.discard_turn(self.database, context.user_id, context.origin)
                    raise

                if context.repeating:  # the model did nothing but repeat its calls: say what they did
                    new_items = tool_items(new_items)
                    answer = truthful_answer([dict(i) for i in new_items])
                    new_items.append(assistant_message(answer))
                if resume is not None:  # a resumed run reports the whole run, the part stored at the pause too
                    new_items = approvals.new_since_pause(new_items, await memory.stored_call_ids())
                fallback_reason = model.fallback_reason if isinstance(model, FallbackModel) else None
                using_stub = self.model_kind == "offline" or fallback_reason is not None
                if not using_stub and not context.guardrail_trips and resume is None and not interrupted:
                    checked = await self.recheck.checked(answer, new_items, turn_input, run_options)
                    answer, new_items = checked.answer, checked.items
                    if stream and checked.retried:
                        for event in tool_events(list(checked.retried)):
                            yield event
                    if checked.paused is not None:  # the re-ask made calls that wait for the user's yes
                        interrupted, state = list(checked.paused.interruptions), checked.paused.to_state()
                elif not using_stub and not context.guardrail_trips and not interrupted:
                    answer, new_items = self.recheck.settled(answer, new_items)
                if interrupted:
                    # Paused before any waiting call ran: keep what ran, and ask (the calls are in `state`).
                    paused = await approvals.describe(self.database, context.user_id, interrupted)
                    answer = approvals.question(paused)
                    new_items = [*complete_pairs([dict(i) for i in new_items]), assistant_message(answer)]  # type: ignore[list-item]
                    if stream:
                        yield TurnEvent("delta", {"text": answer})
                trip = context.guardrail_trips[0] if context.guardrail_trips else None
                if trip is not None:
                    yield TurnEvent("guardrail", {"name": trip.name, "message": trip.message})
                turn.record_outcome(
                    using_stub=using_stub,
                    fallback_reason=fallback_reason,
                    guardrails_tripped=[t.name for t in context.guardrail_trips],
                )
                try:
                    rows = await memory.save_turn(
                        [*user_items, *new_items], last_id=context.message_id, first_turn=context.new_conversation
                    )
                except Exception:  # e.g. the conversation was deleted meanwhile: the turn is not stored,
                    await changes.discard_turn(self.database, context.user_id, context.origin)  # nor its changes
                    raise
                if state is not None:
                    # After the question is stored: a crash in between leaves a question nobody can approve
                    # (a later "yes" is then a plain message), never a pending run the user was not asked about.
                    await approvals.save(self.database, context, conversation_id, state, paused, self.approval_ttl_s)
                    yield TurnEvent("approval", {"approvals": approvals.public(paused)})
                calls, results = tool_activity([dict(i) for i in new_items])
                yield TurnEvent(
                    "done",
                    TurnResult(
                        conversation_id=conversation_id,
                        message_id=rows[-1].id,
                        response=answer,
                        timestamp=as_utc(rows[-1].created_at),
                        model=OFFLINE_MODEL_NAME if using_stub else self.model_name,
                        using_stub=using_stub,
                        trace_id=current_trace_id(),
                        tool_calls=calls,
                        tool_results=results,
                        guardrail={"name": trip.name, "message": trip.message} if trip else None,
                        status="awaiting_approval" if paused else "completed",
                        approvals=approvals.public(paused),
                    ),
                )

    async def decide(self, user_id: uuid.UUID, conversation_id: uuid.UUID, decisions: dict[str, bool]) -> Resume:
        """Claim the paused run the decisions are for (`POST …/approvals`); see `approvals.claim_decided`."""
        return await approvals.claim_decided(self.database, user_id, conversation_id, decisions)

    async def aclose(self) -> None:
        """Let streamed turns whose clients left finish and be stored (within a bound), then close."""
        if self._detached:
            _, late = await asyncio.wait(set(self._detached), timeout=DETACHED_DRAIN_S)
            for task in late:
                task.cancel()
        await self.models.aclose()
