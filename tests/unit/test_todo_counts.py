"""`list_todos` reads its `total` from `todo_counts`, which database triggers keep exact (migration 0003),
whenever its page is full (a shorter page ends the list and counts its own rows).

The triggers count every write to `tasks`, whatever makes it: the domain functions, a bulk insert, a
plain UPDATE or DELETE, a user deleted with all their todos.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, update
from sqlmodel import col

from service import todos
from service.db import Database
from service.models import Task, TodoCount, User


async def _totals(database: Database, user_id: uuid.UUID) -> tuple[int, int, int]:
    """Pages of one todo: a full page reads its total from `todo_counts` (a short one counts its own rows)."""
    async with database.session() as db:
        return (
            (await todos.list_todos(db, user_id, limit=1)).total,
            (await todos.list_todos(db, user_id, completed=True, limit=1)).total,
            (await todos.list_todos(db, user_id, completed=False, limit=1)).total,
        )


async def test_every_page_has_the_same_total(database: Database, user_id: uuid.UUID) -> None:
    """Full pages read the counts, the last page counts itself, a page past the end reads the counts again."""
    async with database.session() as db:
        for n in range(5):
            await todos.add_todo(db, user_id, title=f"todo {n}")
        pages = [await todos.list_todos(db, user_id, limit=2, offset=offset) for offset in (0, 2, 4, 6)]
        done = [await todos.list_todos(db, user_id, completed=True, limit=2, offset=offset) for offset in (0, 2)]
    assert [(len(p.todos), p.total) for p in pages] == [(2, 5), (2, 5), (1, 5), (0, 5)]
    assert [(len(p.todos), p.total) for p in done] == [(0, 0), (0, 0)]


async def test_totals_follow_every_write(database: Database, user_id: uuid.UUID) -> None:
    assert await _totals(database, user_id) == (0, 0, 0)
    async with database.session() as db:
        added = [await todos.add_todo(db, user_id, title=f"todo {n}") for n in range(3)]
        await todos.update_todo(db, user_id, added[0].id, completed=True)
        await todos.update_todo(db, user_id, added[0].id, title="renamed")  # no change of state: no change of count
    assert await _totals(database, user_id) == (3, 1, 2)

    async with database.session() as db:
        await todos.delete_todo(db, user_id, added[0].id)
    assert await _totals(database, user_id) == (2, 0, 2)


async def test_totals_follow_writes_that_bypass_the_domain(database: Database, user_id: uuid.UUID) -> None:
    other = uuid.uuid4()
    async with database.session() as db:
        db.add(User(id=other))
        await db.commit()
        rows = [{"id": uuid.uuid4(), "user_id": user_id, "title": f"bulk {n}", "completed": n < 2} for n in range(5)]
        await db.exec(insert(Task), params=rows)
        await db.exec(update(Task).where(col(Task.title) == "bulk 4").values(completed=True))
        await db.exec(update(Task).where(col(Task.title) == "bulk 3").values(user_id=other))
        await db.commit()
    assert await _totals(database, user_id) == (4, 3, 1)
    assert await _totals(database, other) == (1, 0, 1)

    async with database.session() as db:
        await db.exec(delete(Task).where(col(Task.user_id) == user_id, col(Task.completed)))
        await db.commit()
    assert await _totals(database, user_id) == (1, 0, 1)


async def test_a_deleted_user_takes_their_counts_along(database: Database, user_id: uuid.UUID) -> None:
    async with database.session() as db:
        await todos.add_todo(db, user_id, title="one")
        await db.exec(delete(User).where(col(User.id) == user_id))
        await db.commit()
        assert await db.get(TodoCount, user_id) is None
