"""`POST /api/{user_id}/conversations/{id}/approvals` (and `/approvals/stream`): the user's decisions on
a paused turn, and the resumed turn they lead to (DESIGN §4, §6a)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from service.api import sse
from service.api.chat import STREAM_EVENT_SCHEMA, ChatResponse, TurnSlotDep, _chat_response, _event_stream, _hooks
from service.api.deps import CurrentUser, chat_rate_limit
from service.api.schemas import ERROR_RESPONSES
from service.api.state import State

CONFLICT = {**ERROR_RESPONSES[404], "description": "Already decided (by this or a concurrent request)"}
# Counted against the chat quota in each route, after the body is validated (as `POST /chat`).
router = APIRouter(tags=["chat"], responses={**ERROR_RESPONSES, 409: CONFLICT})


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="An approval's id from the paused turn")
    approve: StrictBool  # "yes" or 1 carry out no delete: only a JSON boolean decides


# As many as a turn may pause on: "delete everything" pauses one call per todo, and the page sends them all.
MAX_DECISIONS = 1000


class Decisions(BaseModel):
    """One decision per waiting call; a waiting call left out is rejected."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[Decision] = Field(min_length=1, max_length=MAX_DECISIONS)

    @field_validator("decisions")
    @classmethod
    def _one_each(cls, decisions: list[Decision]) -> list[Decision]:
        if len({decision.id for decision in decisions}) != len(decisions):
            raise ValueError("each approval id may be decided once")  # which of two would count is a guess
        return decisions


def _decided(body: Decisions) -> dict[str, bool]:
    return {decision.id: decision.approve for decision in body.decisions}


@router.post("/conversations/{conversation_id}/approvals", response_model=ChatResponse)
async def decide(
    conversation_id: uuid.UUID, body: Decisions, user_id: CurrentUser, state: State, slot: TurnSlotDep
) -> ChatResponse:
    """Approve or reject the calls a turn paused on, and run the rest of that turn.

    404 for an unknown, expired or someone else's approval; 409 if it was decided already.
    """
    await chat_rate_limit(state, user_id)
    resume = await state.agent.decide(user_id, conversation_id, _decided(body))
    return _chat_response(await state.agent.run_turn(user_id, None, conversation_id, _hooks(None, slot), resume=resume))


@router.post(
    "/conversations/{conversation_id}/approvals/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": STREAM_EVENT_SCHEMA}}}},
)
async def decide_stream(
    conversation_id: uuid.UUID, body: Decisions, user_id: CurrentUser, state: State, request: Request, slot: TurnSlotDep
) -> StreamingResponse:
    """The same as `…/approvals`, the resumed turn streamed as server-sent events (as `/chat/stream`)."""
    await chat_rate_limit(state, user_id)
    resume = await state.agent.decide(user_id, conversation_id, _decided(body))
    events = await state.agent.stream_turn(user_id, None, conversation_id, _hooks(None, slot), resume=resume)
    first = await anext(events)

    async def all_events() -> Any:
        yield first
        async for event in events:
            yield event

    return StreamingResponse(_event_stream(request, all_events()), media_type="text/event-stream", headers=sse.HEADERS)
