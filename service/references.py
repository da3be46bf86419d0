"""Which of a user's todos a reference means: an id, a title or words of it, or a position ("2", "#2", "last").

Models, small ones especially, hold titles and positions, not ids; the server resolves what they have
against the user's own todos only, so a tool can act in one call. Resolution is deterministic and
cautious: exactly one match acts; several equally good ones are `Ambiguous` (the caller asks which);
none is `NotFound` with the closest titles. Nothing is ever picked on a guess.

Positions count in the order `list_todos` pages the whole list (oldest first), as in the snapshot a
turn's model sees (`service.agent.snapshot`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from service.errors import NotFound, ServiceError
from service.matching import ORDINALS, same_word
from service.matching import key_words as shared_key_words
from service.models import Task
from service.todos import count_todos, get_todo

# Up to this many todos a reference is matched against the whole list; past it, against the titles an
# indexed pre-filter finds (a typo then only matches when another word of it is right).
SCAN_ALL_MAX = 1000
PREFILTER_MAX = 200
CANDIDATES_MAX = 10
CLOSEST_MAX = 3

_POSITION_RE = re.compile(
    r"^\s*(?:the\s+|my\s+)?(?:(?P<ordinal>" + "|".join(sorted(map(re.escape, ORDINALS), key=len, reverse=True)) + r")"
    r"(?:\s+(?:one|todo|task|item|entry))?(?:\s+(?:on|in)\s+(?:the|my)\s+list)?"
    r"|(?:#|no\.?\s*|number\s+|item\s+|todo\s+|task\s+|position\s+)?(?P<number>\d{1,6}))\s*[.!]?\s*$",
    re.IGNORECASE,
)
# Words that say nothing about which todo: "the milk one", "my todo about taxes".
_FILLER = {
    "a", "an", "the", "my", "our", "to", "of", "for", "on", "in", "at", "about", "one", "todo", "todos",
    "task", "tasks", "item", "items", "entry", "that", "this", "please", "list", "called", "named", "titled",
}  # fmt: skip


class Ambiguous(ServiceError):
    """Several todos match equally well; the caller must ask which one is meant, and change nothing."""

    status_code = 409
    code = "ambiguous"

    def __init__(self, reference: str, candidates: Sequence[Task]) -> None:
        super().__init__(f'"{reference}" matches {len(candidates)} todos; ask the user which one they mean')
        self.candidates = [_brief(task) for task in candidates[:CANDIDATES_MAX]]


class NoSuchTodo(NotFound):
    """Nothing matches; `closest` are the titles nearest to what was asked for, to offer the user."""

    def __init__(self, message: str, closest: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.closest = list(closest)


@dataclass(frozen=True)
class _Entry:
    id: uuid.UUID
    title: str
    completed: bool


def _brief(task: Task | _Entry) -> dict[str, Any]:
    return {"id": str(task.id), "title": task.title, "completed": task.completed}


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def references_in(todo: Any) -> list[str]:
    """A tool's `todo` argument as the references it names: one, or a list of them."""
    return [str(reference) for reference in todo] if isinstance(todo, list) else [str(todo)]


def is_position(reference: str) -> bool:
    return bool(_POSITION_RE.match(reference))


def key_words(text: str) -> frozenset[str]:
    return shared_key_words(text, _FILLER)


async def resolve_todo(
    db: AsyncSession,
    user_id: uuid.UUID,
    reference: str,
    *,
    prefer_completed: bool | None = None,
    said: str | None = None,
) -> Task:
    """The one todo of `user_id` that `reference` means, or `Ambiguous` / `NoSuchTodo`.

    `prefer_completed` breaks a tie towards todos in that state: "mark milk done" means the open
    "Buy milk" when a done one has the same title. `said`: the user's own request, when a model chose
    the reference; a title more precise than the user's words, or a position the user never said, is a
    guess when those words fit several todos ("Call mom" or "1" for "mark the call as done" while "Call
    dad" is open too), so it is `Ambiguous`.
    """
    text = " ".join(str(reference).split())
    if not text:
        raise NoSuchTodo("say which todo: its title, words of it, or its position")
    if (todo_id := _as_uuid(text)) is not None:
        return await get_todo(db, user_id, todo_id)
    if position := _POSITION_RE.match(text):
        task = await _by_position(db, user_id, position)
        if said is not None and not _names_a_position(said):
            await _check_as_said(db, user_id, task, said, prefer_completed)
        return task
    return await _by_title(db, user_id, text, prefer_completed, said)


def _names_a_position(said: str) -> bool:
    return any(word.isdigit() or word in ORDINALS for word in re.findall(r"\w+", said.casefold()))


async def _check_as_said(
    db: AsyncSession, user_id: uuid.UUID, task: Task, said: str, prefer_completed: bool | None
) -> None:
    """A position the model chose while the user named no position is checked like a title it chose: the
    user's words ("rename the milk one") fitting several todos make it `Ambiguous`, whichever number the
    model read off the list."""
    title_words = key_words(task.title)
    entries = await _entries(db, user_id, title_words)
    chosen = next((e for e in entries if e.id == task.id), None)
    if chosen is not None and len(named := _as_said(entries, chosen, title_words, said, prefer_completed)) > 1:
        raise Ambiguous(" ".join(said.split()), await _tasks(db, [e.id for e in named[:CANDIDATES_MAX]]))


def _ordered(user_id: uuid.UUID) -> SelectOfScalar[Task]:
    return select(Task).where(col(Task.user_id) == user_id).order_by(col(Task.created_at), col(Task.id))


async def _by_position(db: AsyncSession, user_id: uuid.UUID, match: re.Match[str]) -> Task:
    total = await count_todos(db, user_id)
    index = ORDINALS[match["ordinal"].lower()] if match["ordinal"] else int(match["number"])
    offset = index - 1 if index > 0 else total + index
    if not 0 <= offset < total:
        raise NoSuchTodo(f"there is no todo number {match.group(0).strip()}; the list has {total}")
    task = (await db.exec(_ordered(user_id).offset(offset).limit(1))).first()
    if task is None:  # deleted between the count and the read
        raise NoSuchTodo("that todo is no longer on the list")
    return task


async def _entries(db: AsyncSession, user_id: uuid.UUID, wanted: frozenset[str]) -> list[_Entry]:
    query = select(Task.id, Task.title, Task.completed).where(col(Task.user_id) == user_id)
    if await count_todos(db, user_id) > SCAN_ALL_MAX:
        stems = [word for word in wanted if len(word) >= 3] or list(wanted)
        query = query.where(or_(*(func.lower(Task.title).contains(word, autoescape=True) for word in stems)))
        query = query.limit(PREFILTER_MAX)
    rows = await db.exec(query.order_by(col(Task.created_at), col(Task.id)))
    return [_Entry(*row) for row in rows.all()]


async def _by_title(
    db: AsyncSession, user_id: uuid.UUID, text: str, prefer_completed: bool | None, said: str | None
) -> Task:
    wanted = key_words(text)
    entries = await _entries(db, user_id, wanted)
    matches = _matching(entries, text, wanted, prefer_completed)
    if not matches:
        closest = _closest(text, entries)
        hint = f"; closest: {', '.join(repr(t) for t in closest)}" if closest else "; the list is empty"
        raise NoSuchTodo(f'no todo matches "{text}"{hint}', closest)
    if len(matches) == 1 and said is not None:
        matches = _as_said(entries, matches[0], wanted, said, prefer_completed)
    if len(matches) > 1:
        raise Ambiguous(text, await _tasks(db, [e.id for e in matches[:CANDIDATES_MAX]]))
    return await get_todo(db, user_id, matches[0].id)


def _matching(
    entries: Sequence[_Entry], text: str, wanted: frozenset[str], prefer_completed: bool | None
) -> list[_Entry]:
    """The entries `text` (with key words `wanted`) names: an exact title, else every title holding all the words."""
    folded = text.casefold().strip(" \"'.!")
    exact = [e for e in entries if " ".join(e.title.split()).casefold() == folded]
    matches = exact or [e for e in entries if _has_all(key_words(e.title), wanted)]
    if len(matches) > 1 and prefer_completed is not None:
        matches = [e for e in matches if e.completed == prefer_completed] or matches
    if len(matches) > 1:
        # One title that is exactly the reference's words beats titles that merely contain them.
        tight = [e for e in matches if key_words(e.title) == wanted]
        matches = tight if len(tight) == 1 else matches
    return matches


def _as_said(
    entries: Sequence[_Entry], chosen: _Entry, wanted: frozenset[str], said: str, prefer_completed: bool | None
) -> list[_Entry]:
    """The entries the user's own words name, when the model's reference is `chosen` (by the words `wanted`).

    Only the reference's words the user said count: none said means they named it another way ("it",
    "the second one"), which the model read from the conversation, so `chosen` stands.
    """
    heard = key_words(said)
    spoken = frozenset(word for word in wanted if any(same_word(word, other) for other in heard))
    if not spoken or spoken == wanted:
        return [chosen]
    named = _matching(entries, " ".join(sorted(spoken)), spoken, prefer_completed)
    return named if len(named) > 1 and chosen in named else [chosen]


def _has_all(title: frozenset[str], wanted: frozenset[str]) -> bool:
    return all(any(same_word(word, other) for other in title) for word in wanted)


def _closest(text: str, entries: Sequence[_Entry]) -> list[str]:
    wanted = text.casefold()
    scored = sorted(entries, key=lambda e: SequenceMatcher(None, wanted, e.title.casefold()).ratio(), reverse=True)
    return [e.title for e in scored[:CLOSEST_MAX]]


async def _tasks(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Task]:
    rows = await db.exec(select(Task).where(col(Task.id).in_(ids)).order_by(col(Task.created_at), col(Task.id)))
    return list(rows.all())
