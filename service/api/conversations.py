"""`/api/{user_id}/conversations`: the chat history, browsed, renamed and deleted."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service import conversations
from service.agent.turn_items import parsed_json
from service.api.deps import CurrentUser, DbSession
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN, Cursor
from service.models import TITLE_MAX, AgentMessage
from service.todos import MAX_PAGE, UtcDatetime

router = APIRouter(tags=["conversations"], responses=ERROR_RESPONSES)


class Conversation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ConversationList(BaseModel):
    conversations: list[Conversation]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class Message(BaseModel):
    """One stored SDK item. `role` and `kind` are plain strings so a new item type never breaks reads."""

    id: uuid.UUID
    role: str = Field(description="user | assistant | tool")
    kind: str = Field(description="message | function_call | function_call_output")
    content: str | None
    tool_name: str | None
    call_id: str | None = Field(description="Pairs a function_call with its function_call_output")
    arguments: Any = Field(description="A function_call's arguments, parsed when they are JSON")
    output: Any = Field(description="A function_call_output's output, parsed when it is JSON")
    created_at: UtcDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        """A stored row shows its call's arguments or its output, parsed from `item` (which stays internal:
        it is the replay format)."""
        if not isinstance(data, AgentMessage):
            return data
        item = data.item
        return {
            **data.model_dump(exclude={"item"}),
            "arguments": parsed_json(item.get("arguments")) if data.kind == "function_call" else None,
            "output": parsed_json(item.get("output")) if data.kind == "function_call_output" else None,
        }


class ConversationDetail(Conversation):
    messages: list[Message] = Field(description="Oldest first")


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX, pattern=NO_NUL_PATTERN)


@router.get("/conversations", response_model=ConversationList)
async def list_conversations(
    user_id: CurrentUser,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Cursor = None,
) -> ConversationList:
    """Most recently active first."""
    page, next_cursor = await conversations.list_conversations(db, user_id, limit=limit, cursor=cursor)
    return ConversationList(conversations=[Conversation.model_validate(s) for s in page], next_cursor=next_cursor)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
async def read_conversation(conversation_id: uuid.UUID, user_id: CurrentUser, db: DbSession) -> ConversationDetail:
    """The conversation with its messages, tool calls and tool results, oldest first."""
    session = await conversations.get_conversation(db, user_id, conversation_id)
    messages = await conversations.conversation_messages(db, user_id, conversation_id)
    return ConversationDetail(
        **Conversation.model_validate(session).model_dump(), messages=[Message.model_validate(m) for m in messages]
    )


@router.patch("/conversations/{conversation_id}", response_model=Conversation)
async def rename_conversation(
    conversation_id: uuid.UUID, body: Rename, user_id: CurrentUser, db: DbSession
) -> Conversation:
    session = await conversations.rename_conversation(db, user_id, conversation_id, body.title)
    return Conversation.model_validate(session)


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: uuid.UUID, user_id: CurrentUser, db: DbSession) -> None:
    """Deletes its messages too."""
    await conversations.delete_conversation(db, user_id, conversation_id)
