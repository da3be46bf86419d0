"""The todo domain, shared by the REST routes and the agent tools so both obey the same rules.

Every function is scoped by `user_id`; another user's todo is indistinguishable from a missing one.
Every write also adds its `todo_changes` row (the todo before and after) to the same transaction, so
the change log never disagrees with the list; `origin` says which chat turn made it, if any.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from sqlalchemy import delete
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import Conflict, InvalidArgument, NotFound
from service.models import DESCRIPTION_MAX, TITLE_MAX, Task, TodoChange, TodoCount, utcnow

MAX_PAGE = 100
MAX_BATCH = 20
# Beyond this an offset overflows some drivers' integers (a model passing 2**63 crashed the tool on SQLite);
# no real list gets near it.
MAX_OFFSET = 2**31 - 1


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A stored timestamp in a public model: aware (UTC) whichever database it came from.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


# A todo as clients see it: the REST API's body and the change log's before/after; the agent's tools send it
# without its timestamps. (Comments, not a docstring: a docstring would become its OpenAPI description.)
class Todo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    completed: bool
    due_date: date | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


def logged(task: Task) -> dict[str, Any]:
    """The todo as a `todo_changes` row keeps it (`before`, `after`): its public JSON."""
    return Todo.model_validate(task).model_dump(mode="json")


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int
    has_more: bool


@dataclass(frozen=True)
class Page:
    todos: list[Task]
    limit: int
    offset: int
    total: int

    def pagination(self) -> Pagination:
        has_more = self.offset + len(self.todos) < self.total
        return Pagination(limit=self.limit, offset=self.offset, total=self.total, has_more=has_more)


@dataclass(frozen=True)
class Origin:
    """The chat turn a change belongs to; REST writes have none."""

    conversation_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None


def log_change(
    db: AsyncSession,
    user_id: uuid.UUID,
    op: str,
    todo_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    origin: Origin | None,
    at: datetime | None = None,
) -> TodoChange:
    """Add the change's log row to the caller's transaction (committed with the change itself)."""
    change = TodoChange(
        user_id=user_id,
        todo_id=todo_id,
        op=op,
        before=before,
        after=after,
        conversation_id=origin.conversation_id if origin else None,
        message_id=origin.message_id if origin else None,
        created_at=at or utcnow(),
    )
    db.add(change)
    return change


def _no_nul(text: str, field: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it everywhere so SQLite and Postgres behave alike.
    if "\x00" in text:
        raise InvalidArgument(f"{field} must not contain NUL characters")
    return text


_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Hangul fillers and the braille blank: characters by their category, drawn as nothing."""
_UNSEEN = frozenset({"Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"})
"""Controls, format characters, marks with no letter to sit on (variation selectors, the grapheme joiner) and
spaces."""


def is_blank(text: str) -> bool:
    """Nothing a reader would see: whitespace, controls, invisible format characters (a zero-width space, a
    BOM), marks alone and blank-looking letters. Beside a letter they stay (a zero-width joiner makes one emoji
    of several; "e" with an accent mark is "é")."""
    return all(char.isspace() or unicodedata.category(char) in _UNSEEN or char in _BLANK_LETTERS for char in text)


def clean_title(title: str) -> str:
    title = " ".join(_no_nul(title, "title").split())
    if is_blank(title):
        raise InvalidArgument("title must not be empty")
    if len(title) > TITLE_MAX:
        raise InvalidArgument(f"title must be at most {TITLE_MAX} characters")
    return title


def clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    description = _no_nul(description, "description").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidArgument(f"description must be at most {DESCRIPTION_MAX} characters")
    return description or None


def parse_due_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidArgument("due_date must be an ISO date, YYYY-MM-DD") from None


def parse_todo_id(todo_id: str | uuid.UUID) -> uuid.UUID:
    if isinstance(todo_id, uuid.UUID):
        return todo_id
    try:
        return uuid.UUID(todo_id.strip())
    except (ValueError, AttributeError):
        raise NotFound("no such todo") from None


async def count_todos(db: AsyncSession, user_id: uuid.UUID, completed: bool | None = None) -> int:
    """How many todos the user has (done or not done only, if asked): one row read, however long the list.

    `todo_counts` is kept by triggers on `tasks` (migration 0003), in the same transaction as each write.
    """
    counts = (await db.exec(select(TodoCount.total, TodoCount.done).where(col(TodoCount.user_id) == user_id))).first()
    total, done = counts if counts is not None else (0, 0)
    if completed is None:
        return total
    return done if completed else total - done


async def list_todos(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    completed: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be between 1 and {MAX_PAGE}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidArgument(f"offset must be between 0 and {MAX_OFFSET}")
    where = [col(Task.user_id) == user_id]
    if completed is not None:
        where.append(col(Task.completed) == completed)
    query = select(Task).where(*where).order_by(col(Task.created_at), col(Task.id)).offset(offset).limit(limit)
    rows = list((await db.exec(query)).all())
    # A page that is not full and not past the end ends the list, so it counts it: most lists are one page,
    # and the count is then a statement saved (a chat turn reads the list for its snapshot).
    ends_list = len(rows) < limit and (bool(rows) or offset == 0)
    total = offset + len(rows) if ends_list else await count_todos(db, user_id, completed)
    return Page(todos=rows, limit=limit, offset=offset, total=total)


async def get_todo(db: AsyncSession, user_id: uuid.UUID, todo_id: str | uuid.UUID) -> Task:
    task = await db.get(Task, parse_todo_id(todo_id))
    if task is None or task.user_id != user_id:
        raise NotFound("no such todo")
    return task


async def add_todo(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    title: str,
    description: str | None = None,
    due_date: str | date | None = None,
    origin: Origin | None = None,
) -> Task:
    now = utcnow()
    task = Task(
        user_id=user_id,
        title=clean_title(title),
        description=clean_description(description),
        due_date=parse_due_date(due_date),
        created_at=now,
        updated_at=now,
    )
    db.add(task)
    await db.flush()  # the id as stored (a flush hook may assign it) goes into the log
    log_change(db, user_id, "add", task.id, None, logged(task), origin)
    await db.commit()
    return task


async def add_todos(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    titles: list[str],
    due_date: str | date | None = None,
    origin: Origin | None = None,
) -> list[Task]:
    """Several todos in one transaction: all of them, or none when one title is invalid."""
    if not 1 <= len(titles) <= MAX_BATCH:
        raise InvalidArgument(f"titles must hold 1 to {MAX_BATCH} items")
    due = parse_due_date(due_date)
    start = utcnow()
    # Distinct, increasing timestamps keep the items in the order given (positions count by `created_at`).
    stamps = [start + timedelta(microseconds=i) for i in range(len(titles))]
    tasks = [
        Task(user_id=user_id, title=clean_title(title), due_date=due, created_at=at, updated_at=at)
        for at, title in zip(stamps, titles, strict=True)
    ]
    db.add_all(tasks)
    await db.flush()
    for task in tasks:  # the same increasing timestamps: the log reads newest first in reverse order given
        log_change(db, user_id, "add", task.id, None, logged(task), origin, at=task.created_at)
    await db.commit()
    return tasks


async def update_todo(
    db: AsyncSession,
    user_id: uuid.UUID,
    todo_id: str | uuid.UUID,
    *,
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
    due_date: str | date | None = None,
    clear_due_date: bool = False,
    origin: Origin | None = None,
) -> Task:
    """Sets the fields given. Against another writer of the todo at the same time, it is applied to what
    that one left (the version check in `Task` finds the race), so neither change is lost and each logged
    change is one real step."""
    new_title, new_description, new_due = clean_title(title) if title is not None else None, None, None
    if description is not None:
        new_description = clean_description(description)
    if due_date is not None and not clear_due_date:
        new_due = parse_due_date(due_date)
    for attempt in range(_WRITE_ATTEMPTS):
        task = await get_todo(db, user_id, todo_id)
        before = logged(task)
        if new_title is not None:
            task.title = new_title
        if description is not None:
            task.description = new_description
        if completed is not None:
            task.completed = completed
        if clear_due_date or new_due is not None:
            task.due_date = new_due
        if logged(task) != before:  # a change that changes nothing is no new version, and no step for undo
            task.updated_at = utcnow()
            db.add(task)
            log_change(db, user_id, "update", task.id, before, logged(task), origin)
        try:
            await db.commit()
            return task
        except StaleDataError:
            await _start_over(db, last=attempt == _WRITE_ATTEMPTS - 1)
    raise AssertionError("unreachable")  # the last attempt returns or raises


async def delete_todo(
    db: AsyncSession, user_id: uuid.UUID, todo_id: str | uuid.UUID, origin: Origin | None = None
) -> Task:
    for attempt in range(_WRITE_ATTEMPTS):
        task = await get_todo(db, user_id, todo_id)
        log_change(db, user_id, "delete", task.id, logged(task), None, origin)
        # A statement whose row count tells whether this request deleted it: the ORM's delete only warns when
        # a concurrent request got there first, and both would answer 204 and log a deletion. Only the version
        # read is deleted, so the log's "before" (what undo restores) is what was deleted.
        todo, version = task.id, task.updated_at  # read now: a rollback expires the object
        deleted = await db.exec(
            delete(Task).where(col(Task.id) == todo, col(Task.user_id) == user_id, col(Task.updated_at) == version)
        )
        if deleted.rowcount == 1:
            await db.commit()
            return task
        await _start_over(db, last=attempt == _WRITE_ATTEMPTS - 1)  # deleted (404 next) or changed meanwhile
    raise AssertionError("unreachable")


_WRITE_ATTEMPTS = 3
"""How often a write of a todo that lost a race to another writer reads the todo again and retries."""


async def _start_over(db: AsyncSession, *, last: bool) -> None:
    """After a lost race: read again what the session holds, so the next attempt sees the todo as it now is,
    and the todos a caller changed before this one (a tool changing several) stay readable; the rollback
    expired them all."""
    await db.rollback()
    for held in list(db.identity_map.values()):
        try:
            await db.refresh(held)
        except InvalidRequestError:  # deleted meanwhile: nothing left to read
            db.expunge(held)
    if last:
        raise Conflict("the todo changed while this request ran; try again")
