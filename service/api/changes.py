"""`/api/{user_id}/changes`: the log of every change to the user's todos, and undo through it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service import changes
from service.api.deps import CurrentUser, DbSession
from service.api.schemas import ERROR_RESPONSES, Cursor
from service.todos import MAX_PAGE, UtcDatetime

CONFLICT = {**ERROR_RESPONSES[404], "description": "A todo changed since, or it was undone already: nothing was undone"}
router = APIRouter(tags=["changes"], responses={**ERROR_RESPONSES, 409: CONFLICT})


class Change(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    todo_id: uuid.UUID
    op: str = Field(description="add | update | delete")
    before: dict[str, Any] | None = Field(description="The todo before the change; null for an add")
    after: dict[str, Any] | None = Field(description="The todo after the change; null for a delete")
    conversation_id: uuid.UUID | None = Field(description="The chat that made it; null for the REST API")
    message_id: uuid.UUID | None = Field(description="The chat turn (its answer's message id) that made it")
    created_at: UtcDatetime
    reverted_at: UtcDatetime | None


class ChangeList(BaseModel):
    changes: list[Change] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class RevertRequest(BaseModel):
    """Either a chat turn's `message_id` (every change it made) or chosen `change_ids`."""

    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID | None = None
    change_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=changes.MAX_REVERT)


class Reverted(BaseModel):
    reverted: list[Change] = Field(description="The changes undone, newest first")


@router.get("/changes", response_model=ChangeList)
async def list_changes(
    user_id: CurrentUser,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Cursor = None,
) -> ChangeList:
    """Every add, update and delete of your todos, by the agent or the REST API, newest first."""
    page, next_cursor = await changes.list_changes(db, user_id, limit=limit, cursor=cursor)
    return ChangeList(changes=[Change.model_validate(c) for c in page], next_cursor=next_cursor)


@router.post("/changes/revert", response_model=Reverted)
async def revert_changes(body: RevertRequest, user_id: CurrentUser, db: DbSession) -> Reverted:
    """Undo a chat turn's changes or chosen ones, newest first, all or nothing.

    409 `conflict`, naming the todos, when one changed since: then nothing is undone.
    """
    done = await changes.revert(db, user_id, message_id=body.message_id, change_ids=body.change_ids)
    return Reverted(reverted=[Change.model_validate(c) for c in done])
