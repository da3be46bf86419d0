"""The change log (`todo_changes`): reading it, and undoing changes through it (DESIGN §4, §6a).

Rows are written by `service.todos` in the transaction of each change. A revert is itself a change:
it writes its own rows (origin: whoever asked for the revert) and stamps `reverted_at` on what it undid,
so the log tells the whole story and "undo" of an undo puts the change back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.errors import Conflict, InvalidArgument, NotFound
from service.models import Task, TodoChange, utcnow
from service.paging import newest_first
from service.todos import Origin, as_utc, log_change, logged

log = logging.getLogger(__name__)

MAX_REVERT = 200
# What a todo is, for telling whether it changed since a logged change (timestamps aside).
_CONTENT = ("title", "description", "completed", "due_date")


async def list_changes(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[TodoChange], str | None]:
    """Newest first, by keyset (`id` breaks ties), so pages stay stable while changes arrive."""
    query = select(TodoChange).where(col(TodoChange.user_id) == user_id)
    return await newest_first(db, query, col(TodoChange.created_at), col(TodoChange.id), limit=limit, cursor=cursor)


async def latest_turn_with_changes(
    db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, exclude: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The message id of the conversation's latest chat turn with changes not yet undone (not `exclude`)."""
    query = select(TodoChange.message_id).where(
        col(TodoChange.user_id) == user_id,
        col(TodoChange.conversation_id) == conversation_id,
        col(TodoChange.message_id).is_not(None),
        col(TodoChange.reverted_at).is_(None),
    )
    if exclude is not None:
        query = query.where(col(TodoChange.message_id) != exclude)
    row = (await db.exec(query.order_by(col(TodoChange.created_at).desc()).limit(1))).first()
    return row


async def last_changed_todo(db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID) -> uuid.UUID | None:
    """The todo the conversation's latest add or update (not undone) was about: what "it" means there."""
    query = select(TodoChange.todo_id).where(
        col(TodoChange.user_id) == user_id,
        col(TodoChange.conversation_id) == conversation_id,
        col(TodoChange.op).in_(("add", "update")),
        col(TodoChange.reverted_at).is_(None),
    )
    return (await db.exec(query.order_by(col(TodoChange.created_at).desc()).limit(1))).first()


async def _selected(
    db: AsyncSession, user_id: uuid.UUID, message_id: uuid.UUID | None, change_ids: Sequence[uuid.UUID] | None
) -> list[TodoChange]:
    mine = col(TodoChange.user_id) == user_id
    if message_id is not None:
        rows = list((await db.exec(select(TodoChange).where(mine, col(TodoChange.message_id) == message_id))).all())
        if not rows:
            raise NotFound("no changes were made by that message")
        pending = [row for row in rows if row.reverted_at is None]
        if not pending:
            raise Conflict("the changes of that message were already undone")
        return pending
    ids = set(change_ids or ())
    if not 1 <= len(ids) <= MAX_REVERT:
        raise InvalidArgument(f"change_ids must hold 1 to {MAX_REVERT} ids")
    rows = list((await db.exec(select(TodoChange).where(mine, col(TodoChange.id).in_(ids)))).all())
    if len(rows) != len(ids):
        raise NotFound("no such change")
    if any(row.reverted_at is not None for row in rows):
        raise Conflict("some of those changes were already undone")
    return rows


def _title(change: TodoChange) -> str:
    return str((change.after or change.before or {}).get("title") or change.todo_id)


def modified(change: TodoChange) -> tuple[str, ...]:
    """The fields a change changed: an update's own ones, so that undoing it leaves the rest (a rename made
    between two undone changes, a note added while a chat turn ran) as they are; every field of an add or
    delete."""
    if change.op != "update" or change.before is None or change.after is None:
        return _CONTENT
    return tuple(k for k in _CONTENT if change.before.get(k) != change.after.get(k))


async def _changed_since(
    db: AsyncSession, user_id: uuid.UUID, newest: dict[uuid.UUID, TodoChange], fields: dict[uuid.UUID, set[str]]
) -> tuple[list[str], list[Task]]:
    """Titles, as they are now, of the todos whose state is no longer what the newest selected change left;
    and the todos as checked, which the caller holds so that the undo writes the very versions checked (a
    change made after the check is then a StaleDataError, 409, not overwritten).

    The state decides, not the log rows after it: a later change that was undone since, or one made and
    made back, leaves the todo as the selected change left it, and undoing that change is safe. Only the
    `fields` the selected changes changed count: the undo restores only those."""
    tasks = {t.id: t for t in (await db.exec(select(Task).where(col(Task.id).in_(list(newest))))).all()}
    stale = []
    for todo_id, change in newest.items():
        task = tasks.get(todo_id)
        now = logged(task) if task is not None and task.user_id == user_id else None
        if (now is None) != (change.after is None) or (
            now is not None and change.after is not None and any(now[k] != change.after.get(k) for k in fields[todo_id])
        ):
            stale.append(str(now["title"]) if now else _title(change))
    return stale, list(tasks.values())


def _restored(user_id: uuid.UUID, before: dict[str, Any]) -> Task:
    due = before.get("due_date")
    return Task(
        id=uuid.UUID(before["id"]),
        user_id=user_id,
        title=before["title"],
        description=before.get("description"),
        completed=bool(before.get("completed")),
        due_date=date.fromisoformat(due) if due else None,
        # Its old place in the list: positions count by `created_at`.
        created_at=datetime.fromisoformat(before["created_at"]),
        updated_at=utcnow(),
    )


async def _undo_one(
    db: AsyncSession, user_id: uuid.UUID, change: TodoChange, origin: Origin | None, at: datetime
) -> None:
    task = await db.get(Task, change.todo_id)
    if change.op == "add" and task is not None:
        log_change(db, user_id, "delete", task.id, logged(task), None, origin, at=at)
        await db.delete(task)
    elif change.op == "delete" and change.before is not None:
        task = _restored(user_id, change.before)
        db.add(task)
        await db.flush()
        log_change(db, user_id, "add", task.id, None, logged(task), origin, at=at)
    elif change.op == "update" and task is not None and change.before is not None:
        before = logged(task)
        old = _restored(user_id, change.before)
        for field in modified(change):  # only what this change changed: a later edit of another field stays
            setattr(task, field, getattr(old, field))
        task.updated_at = utcnow()
        db.add(task)
        log_change(db, user_id, "update", task.id, before, logged(task), origin, at=at)
    await db.flush()  # in order: undoing an add and a later re-add of the same id must not collide


async def revert(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    message_id: uuid.UUID | None = None,
    change_ids: Sequence[uuid.UUID] | None = None,
    origin: Origin | None = None,
) -> list[TodoChange]:
    """Undo a chat turn's changes (`message_id`) or chosen ones, newest first, in one transaction.

    If any todo changed since (by anyone), nothing is undone: `Conflict` names those todos. Of two
    concurrent reverts of the same changes, the conditional UPDATE lets exactly one through.
    Returns the changes undone, newest first, with `reverted_at` set.
    """
    if (message_id is None) == (change_ids is None):
        raise InvalidArgument("send either message_id or change_ids")
    chosen = sorted(
        await _selected(db, user_id, message_id, change_ids), key=lambda c: as_utc(c.created_at), reverse=True
    )
    newest: dict[uuid.UUID, TodoChange] = {}
    for change in chosen:
        newest.setdefault(change.todo_id, change)
    fields: dict[uuid.UUID, set[str]] = {}
    for change in chosen:
        fields.setdefault(change.todo_id, set()).update(modified(change))
    stale, _held = await _changed_since(db, user_id, newest, fields)  # held: the undo writes these very versions
    if stale:
        await db.rollback()
        names = ", ".join(f'"{title}"' for title in stale)
        raise Conflict(f"changed since, so nothing was undone: {names}")
    now = utcnow()
    claimed = await db.exec(
        update(TodoChange)
        .where(col(TodoChange.id).in_([c.id for c in chosen]), col(TodoChange.reverted_at).is_(None))
        .values(reverted_at=now)
    )
    if claimed.rowcount != len(chosen):  # another revert took some of them first
        await db.rollback()
        raise Conflict("those changes are being undone already")
    for index, change in enumerate(chosen):
        await _undo_one(db, user_id, change, origin, now + timedelta(microseconds=index))
    await db.commit()
    for change in chosen:
        change.reverted_at = now
    return chosen


async def discard_turn(database: Database, user_id: uuid.UUID, turn: Origin) -> None:
    """Undo what a failed chat turn's tools changed, since the turn itself is not stored.

    The undo is logged without a message id, so "undo" in a later turn never redoes it. If even this
    fails (the database went away), the changes stay logged against the turn's conversation and
    message id, and `POST /changes/revert` with that message id still undoes them.
    """
    try:
        async with database.session() as db:
            await revert(db, user_id, message_id=turn.message_id, origin=Origin(conversation_id=turn.conversation_id))
    except NotFound:
        pass  # the turn changed nothing
    except Exception:
        log.warning("could not undo the changes of failed turn %s", turn.message_id, exc_info=True)
