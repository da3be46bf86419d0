"""`POST /api/{user_id}/chat` and `/chat/stream`: one agent turn, answered whole or as server-sent events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.admission import TurnSlot
from service.agent.runtime import TurnHooks
from service.agent.turn_items import TurnEvent, TurnResult
from service.api import sse
from service.api.deps import CurrentUser, chat_rate_limit
from service.api.errors import error_for, log_failure
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN, ErrorBody
from service.api.state import State
from service.api.turn_gate import turn_slot
from service.idempotency import Claim, request_fingerprint
from service.todos import is_blank

TurnSlotDep = Annotated[TurnSlot, Depends(turn_slot)]

# Admission is `TurnGate`'s, before routing: a refused turn costs no token check and no rate-limit write.
# The chat quota is counted in each route, after its body is validated: a request refused as invalid is no turn.
router = APIRouter(tags=["chat"])

MESSAGE_MAX = 10_000
# Idle proxies commonly close a connection after 30-60 s; a turn waiting on a slow model can be quieter.
HEARTBEAT_S = 15.0


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Send the same key again (within 24 h) to get the first response instead of a second turn.",
    ),
]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MESSAGE_MAX, pattern=NO_NUL_PATTERN)
    conversation_id: uuid.UUID | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):  # "\u200b" was a turn, and the conversation's title
            raise ValueError("message must not be blank")
        return value


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: Any


class ToolResult(BaseModel):
    call_id: str
    name: str | None
    output: Any


class GuardrailTrip(BaseModel):
    name: str
    message: str


class Approval(BaseModel):
    """A tool call the turn paused on: it runs only once the user says yes (DESIGN §6a)."""

    id: str = Field(description="Decide it with this id: POST …/conversations/{id}/approvals")
    tool: str
    arguments: dict[str, Any]
    summary: str = Field(description='What it would do, naming the todo: `Delete "Buy milk"`')


class ChatResponse(BaseModel):
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    response: str
    timestamp: datetime
    tool_calls: list[ToolCall]
    tool_results: list[ToolResult]
    model: str
    using_stub: bool
    guardrail: GuardrailTrip | None
    trace_id: str
    status: Literal["completed", "awaiting_approval"] = Field(
        default="completed", description="awaiting_approval: the turn paused for the user's yes or no"
    )
    approvals: list[Approval] = Field(default_factory=list, description="The calls a paused turn waits on")


def _chat_response(result: TurnResult) -> ChatResponse:
    return ChatResponse.model_validate(result, from_attributes=True)


async def _claim(state: State, user_id: uuid.UUID, key: str | None, body: ChatRequest) -> Claim | dict[str, Any] | None:
    """No key: None. A new key: the claim to run the turn. A key seen before: the response it got."""
    if key is None:
        return None
    return await state.idempotency.claim(user_id, key, request_fingerprint(body.model_dump(mode="json")))


def _hooks(claim: Claim | None, slot: TurnSlot) -> TurnHooks:
    """The turn's end stores an idempotent response (or frees its key) and gives its admission slot back."""
    slot.handed_over = True

    async def done(result: TurnResult) -> None:
        try:
            if claim is not None:
                await claim.complete(_chat_response(result).model_dump(mode="json"))
        finally:
            slot.release()

    async def failed() -> None:
        try:
            if claim is not None:
                await claim.release()
        finally:
            slot.release()

    return TurnHooks(on_done=done, on_failure=failed)


@router.post("/chat", response_model=ChatResponse, responses=ERROR_RESPONSES)
async def chat(
    body: ChatRequest,
    user_id: CurrentUser,
    state: State,
    slot: TurnSlotDep,
    idempotency_key: IdempotencyKey = None,
) -> ChatResponse:
    """Run one agent turn in a new conversation (`conversation_id` null) or an existing one of yours."""
    await chat_rate_limit(state, user_id)
    claim = await _claim(state, user_id, idempotency_key, body)
    if isinstance(claim, dict):
        return ChatResponse.model_validate(claim)
    return _chat_response(await state.agent.run_turn(user_id, body.message, body.conversation_id, _hooks(claim, slot)))


def _encode(event: TurnEvent) -> str:
    if isinstance(event.data, TurnResult):
        return sse.sse_event(event.type, _chat_response(event.data).model_dump_json())
    return sse.sse_event(event.type, json.dumps(event.data, ensure_ascii=False))


async def _event_stream(request: Request, events: AsyncIterator[TurnEvent]) -> AsyncIterator[str]:
    """The turn's events as SSE, pings while it is quiet, and a failure as a last `error` event."""
    try:
        async for event in sse.with_heartbeat(events, HEARTBEAT_S):
            yield sse.PING if event is None else _encode(event)
    except Exception as exc:
        log_failure(request, exc)
        _, code, message = error_for(exc)
        yield sse.sse_event("error", json.dumps({"error": {"code": code, "message": message}}))


STREAM_DESCRIPTION = """\
Server-sent events, in this order: `conversation` `{"conversation_id"}`; then, as they happen,
`tool_call` `{"id", "name", "arguments"}`, `tool_result` `{"call_id", "name", "output"}` and
`delta` `{"text"}`; `guardrail` `{"name", "message"}` if one tripped; `approval` `{"approvals"}` if the
turn paused for the user's yes (answer it with `…/approvals` or "yes" / "no"); finally `done`, the body
`POST /chat` answers. A failure after the stream started is an `error` event
`{"error": {"code", "message"}}` and the end of the stream. `: ping` comments keep idle
connections open.
"""


def _event_schema(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event as OpenAPI 3.1 describes a stream item: `event` names it, `data` is JSON of `data`'s schema."""
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
        },
    }


def _component(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


# Each event of the stream, so clients and schema-driven testers can check every one of them.
STREAM_EVENT_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _event_schema("conversation", _object(conversation_id={"type": "string", "format": "uuid"})),
        _event_schema("tool_call", _component(ToolCall)),
        _event_schema("tool_result", _component(ToolResult)),
        _event_schema("delta", _object(text={"type": "string"})),
        _event_schema("guardrail", _component(GuardrailTrip)),
        _event_schema("approval", _object(approvals={"type": "array", "items": _component(Approval)})),
        _event_schema("done", _component(ChatResponse)),
        _event_schema("error", _component(ErrorBody)),
    ]
}


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {"schema": STREAM_EVENT_SCHEMA}}},
        **ERROR_RESPONSES,
    },
)
async def chat_stream(
    body: ChatRequest,
    user_id: CurrentUser,
    state: State,
    request: Request,
    slot: TurnSlotDep,
    idempotency_key: IdempotencyKey = None,
) -> StreamingResponse:
    """The same turn as `POST /chat`, streamed as server-sent events while it runs.

    Bad input, auth and an unknown conversation are refused with a JSON error before the stream
    starts. A client that disconnects does not stop the turn: it completes and is stored whole.
    """
    await chat_rate_limit(state, user_id)
    claim = await _claim(state, user_id, idempotency_key, body)
    if isinstance(claim, dict):  # a retry: the first response again, as its two bookend events
        replay = [sse.sse_event("conversation", json.dumps({"conversation_id": claim["conversation_id"]}))]
        replay.append(sse.sse_event("done", json.dumps(claim, ensure_ascii=False)))
        return StreamingResponse(iter(replay), media_type="text/event-stream", headers=sse.HEADERS)
    events = await state.agent.stream_turn(user_id, body.message, body.conversation_id, _hooks(claim, slot))
    # Waiting for the first event lets "no such conversation" still be an ordinary 404.
    first = await anext(events)

    async def all_events() -> AsyncIterator[TurnEvent]:
        yield first
        async for event in events:
            yield event

    return StreamingResponse(_event_stream(request, all_events()), media_type="text/event-stream", headers=sse.HEADERS)
