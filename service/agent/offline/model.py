"""The `Model` adapter: one call reads the conversation, plans the next step and returns it as
Responses output items, or as the stream events the real API would send for them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from agents.tracing import generation_span
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseStreamEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
from pydantic import TypeAdapter

from service.agent.offline.conversation import as_items, read_conversation
from service.agent.offline.planner import Plan, plan_next

MODEL_NAME = "offline"


class OfflineModel(Model):
    """A deterministic `Model` that plans tool calls and answers from the conversation alone.

    Stateless, so one instance serves every turn and conversation concurrently.
    """

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return respond(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        for event in stream_events(respond(*args, **kwargs)):
            yield event


def respond(
    system_instructions: str | None,
    input: str | list[TResponseInputItem],
    model_settings: ModelSettings,
    tools: Sequence[Tool],
    output_schema: AgentOutputSchemaBase | None,
    handoffs: list[Handoff],
    tracing: ModelTracing,
    **_: Any,
) -> ModelResponse:
    """One model call (the `Model` interface's arguments, by position or name): read the conversation,
    plan the next step, render it as output items. Previous response ids and prompts are not ours."""
    items = as_items(input)
    tool_names = frozenset(str(getattr(tool, "name", "")) for tool in tools)
    with generation_span(model=MODEL_NAME, model_config={}, disabled=tracing.is_disabled()) as span:
        plan = plan_next(read_conversation(system_instructions, items, tool_names))
        digest = hashlib.sha256(
            json.dumps([system_instructions, items], sort_keys=True, default=str).encode()
        ).hexdigest()
        output = render(plan, digest)
        usage = estimate_usage(system_instructions, items, output)
        if tracing.include_data():
            span.span_data.input = items
            span.span_data.output = [item.model_dump(exclude_none=True) for item in output]
        span.span_data.usage = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    return ModelResponse(output=output, usage=usage, response_id=None)


def render(plan: Plan, digest: str) -> list[TResponseOutputItem]:
    """Output items with ids derived from the input, so the same input gives the same ids and a
    different conversation (or a later step of it) gives new ones."""
    if plan.calls:
        return [
            ResponseFunctionToolCall(
                type="function_call",
                call_id=f"call_{hashlib.sha256(f'{digest}:{index}'.encode()).hexdigest()[:24]}",
                name=call.name,
                arguments=json.dumps(call.arguments, ensure_ascii=False),
                status="completed",
            )
            for index, call in enumerate(plan.calls)
        ]
    text = ResponseOutputText(type="output_text", text=plan.answer, annotations=[], logprobs=[])
    return [
        ResponseOutputMessage(
            id=f"msg_{digest[:24]}", type="message", role="assistant", status="completed", content=[text]
        )
    ]


def estimate_usage(instructions: str | None, items: Sequence[dict[str, Any]], output: Sequence[Any]) -> Usage:
    """Rough token counts (about four characters a token), so usage metrics are not all zero."""
    input_tokens = _tokens(instructions or "") + _tokens(json.dumps(items, default=str))
    output_tokens = sum(_tokens(item.model_dump_json(exclude_none=True)) for item in output)
    return Usage(
        requests=1, input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


_STREAM_EVENT: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)


def stream_events(response: ModelResponse) -> Iterator[TResponseStreamEvent]:
    """The Responses stream for a finished response, as the real API sends it: created, each item
    added / streamed / done (text in chunks of a few words), then completed with the full response."""
    final = _as_response(response)
    started = final.model_copy(update={"output": [], "status": "in_progress", "usage": None})
    events = [{"type": "response.created", "response": started}, {"type": "response.in_progress", "response": started}]
    for index, item in enumerate(response.output):
        events += _item_events(item, index)
    events.append({"type": "response.completed", "response": final})
    for sequence_number, event in enumerate(events):
        yield _STREAM_EVENT.validate_python({**event, "sequence_number": sequence_number})


def _item_events(item: TResponseOutputItem, index: int) -> list[dict[str, Any]]:
    """One output item's events: added, its content (a function call's arguments, a message's text in
    deltas), done."""
    at = {"output_index": index}
    if isinstance(item, ResponseFunctionToolCall):
        ids = {**at, "item_id": item.call_id}
        content = [
            {**ids, "type": "response.function_call_arguments.delta", "delta": item.arguments},
            {**ids, "type": "response.function_call_arguments.done", "arguments": item.arguments, "name": item.name},
        ]
        started: TResponseOutputItem = item.model_copy(update={"arguments": "", "status": "in_progress"})
    elif isinstance(item, ResponseOutputMessage) and isinstance(part := item.content[0], ResponseOutputText):
        ids = {**at, "item_id": item.id, "content_index": 0}
        deltas = [
            {**ids, "type": "response.output_text.delta", "delta": chunk, "logprobs": []}
            for chunk in text_chunks(part.text)
        ]
        content = [
            {**ids, "type": "response.content_part.added", "part": part.model_copy(update={"text": ""})},
            *deltas,
            {**ids, "type": "response.output_text.done", "text": part.text, "logprobs": []},
            {**ids, "type": "response.content_part.done", "part": part},
        ]
        started = item.model_copy(update={"content": [], "status": "in_progress"})
    else:
        return []
    return [
        {**at, "type": "response.output_item.added", "item": started},
        *content,
        {**at, "type": "response.output_item.done", "item": item},
    ]


def text_chunks(text: str, words_per_chunk: int = 4) -> list[str]:
    """The answer in deltas of a few words; joined, they are exactly the text."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    return ["".join(pieces[i : i + words_per_chunk]) for i in range(0, len(pieces), words_per_chunk)] or [text]


def _as_response(response: ModelResponse) -> Response:
    usage = ResponseUsage(
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        total_tokens=response.usage.total_tokens,
        input_tokens_details=InputTokensDetails.model_validate({"cached_tokens": 0, "cache_write_tokens": 0}),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )
    final = Response(
        id="offline",
        created_at=0,
        model=MODEL_NAME,
        object="response",
        output=list(response.output),
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=True,
        status="completed",
        usage=usage,
    )
    # Like the SDK's own fake model: the Model boundary has no response id, though `Response` wants one.
    object.__setattr__(final, "id", response.response_id)
    return final
