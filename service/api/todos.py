"""`/api/{user_id}/todos`: the todo list over REST, on the same domain functions as the agent's tools."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import MISSING, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from service import todos
from service.api.deps import CurrentUser, DbSession
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN
from service.models import DESCRIPTION_MAX, TITLE_MAX
from service.todos import Pagination, Todo

router = APIRouter(tags=["todos"], responses=ERROR_RESPONSES)

MAX_OFFSET = todos.MAX_OFFSET

# The schema states the column limits; the domain still trims and refuses blank titles.
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX, pattern=NO_NUL_PATTERN, examples=["Buy milk"])]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX, pattern=NO_NUL_PATTERN)]


_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_text(value: object) -> object:
    """Only YYYY-MM-DD reaches the date parser: lax parsing reads a number, or a string of digits, as a Unix
    time (`"0"` became 1970-01-01), and takes a datetime for its date."""
    if type(value) is date or (isinstance(value, str) and _ISO_DATE_RE.fullmatch(value)):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


# The schema says a YYYY-MM-DD string and a JSON boolean; nothing else passes for either.
DueDate = Annotated[date, BeforeValidator(_date_text)]
Completed = Annotated[bool, Strict()]


class TodoList(BaseModel):
    todos: list[Todo]
    pagination: Pagination


class NewTodo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    due_date: DueDate | None = None


class TodoChanges(BaseModel):
    """Only the fields sent change. `null` clears the optional fields; title and completed are never null.

    `MISSING` (rather than a `None` default) tells "not sent" from "sent as null" in the type itself,
    and keeps title and completed non-nullable in the OpenAPI schema.
    """

    model_config = ConfigDict(extra="forbid")

    title: Title | MISSING = MISSING
    description: Description | MISSING | None = MISSING
    completed: Completed | MISSING = MISSING
    due_date: DueDate | MISSING | None = MISSING


@router.get("/todos", response_model=TodoList)
async def list_todos(
    user_id: CurrentUser,
    db: DbSession,
    completed: Annotated[bool | None, Query(description="true: done only; false: pending only")] = None,
    limit: Annotated[int, Query(ge=1, le=todos.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> TodoList:
    """The user's todos, oldest first."""
    page = await todos.list_todos(db, user_id, completed=completed, limit=limit, offset=offset)
    return TodoList(todos=[Todo.model_validate(task) for task in page.todos], pagination=page.pagination())


@router.post("/todos", status_code=201, response_model=Todo)
async def create_todo(body: NewTodo, user_id: CurrentUser, db: DbSession) -> Todo:
    task = await todos.add_todo(db, user_id, title=body.title, description=body.description, due_date=body.due_date)
    return Todo.model_validate(task)


@router.get("/todos/{todo_id}", response_model=Todo)
async def read_todo(todo_id: uuid.UUID, user_id: CurrentUser, db: DbSession) -> Todo:
    return Todo.model_validate(await todos.get_todo(db, user_id, todo_id))


@router.patch("/todos/{todo_id}", response_model=Todo)
async def update_todo(todo_id: uuid.UUID, body: TodoChanges, user_id: CurrentUser, db: DbSession) -> Todo:
    task = await todos.update_todo(
        db,
        user_id,
        todo_id,
        title=None if body.title is MISSING else body.title,
        # The domain reads a None description as "keep" and stores an empty one as none.
        description=None if body.description is MISSING else body.description or "",
        completed=None if body.completed is MISSING else body.completed,
        due_date=None if body.due_date is MISSING else body.due_date,
        clear_due_date=body.due_date is None,
    )
    return Todo.model_validate(task)


@router.delete("/todos/{todo_id}", status_code=204)
async def delete_todo(todo_id: uuid.UUID, user_id: CurrentUser, db: DbSession) -> None:
    await todos.delete_todo(db, user_id, todo_id)
