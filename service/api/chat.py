"""`POST /api/{user_id}/chat`: one agent turn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.agent.runtime import AgentRuntime
from service.api.deps import CurrentUser
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN

router = APIRouter(tags=["chat"])

MESSAGE_MAX = 10_000


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MESSAGE_MAX, pattern=NO_NUL_PATTERN)
    conversation_id: uuid.UUID | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
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


@router.post("/chat", response_model=ChatResponse, responses=ERROR_RESPONSES)
async def chat(body: ChatRequest, user_id: CurrentUser, request: Request) -> ChatResponse:
    """Run one agent turn in a new conversation (`conversation_id` null) or an existing one of yours."""
    runtime: AgentRuntime = request.app.state.agent
    result = await runtime.run_turn(user_id, body.message, body.conversation_id)
    return ChatResponse.model_validate(result, from_attributes=True)
