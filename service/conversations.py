"""The conversation domain: `agent_sessions` and their `agent_messages`, for the history API and the chat turn.

Every function is scoped by `user_id`; another user's conversation is indistinguishable from a missing one.
"""

from __future__ import annotations

import uuid

import regex
from sqlalchemy import delete, insert
from sqlalchemy.sql.dml import Insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import NotFound
from service.models import AgentMessage, AgentSession, UserContext, utcnow
from service.paging import newest_first
from service.todos import clean_title

# A conversation started by a chat turn is titled after its first message, cut to this length.
DERIVED_TITLE_CHARS = 60


def derived_title(message: str | None) -> str | None:
    """The title for a conversation whose first message is `message` (up to 10,000 characters).

    A long message is shortened rather than refused: failing a user's first chat message over its
    automatic title would be absurd. An explicit rename is validated strictly instead.
    """
    if message is None:
        return None
    title = " ".join(message.split())
    if len(title) > DERIVED_TITLE_CHARS:
        # Whole characters as a reader sees them (grapheme clusters): never "e" without its accent, nor an
        # emoji without its joiners, skin tone or variation selector.
        kept, length = [], 0
        for character in regex.findall(r"\X", title):
            if length + len(character) > DERIVED_TITLE_CHARS - 1:
                break
            kept.append(character)
            length += len(character)
        title = "".join(kept).rstrip() + "…"
    return title or None


def creation(user_id: uuid.UUID, first_message: str | None, conversation_id: uuid.UUID) -> Insert:
    """The INSERT of a conversation titled after its first message.

    A chat turn creates its new conversation with the turn's items (`AgentMessageSession.save_turn`), so the
    conversation exists only once its first turn is stored whole: no other turn can reach it before.
    One Core INSERT: an ORM object and its flush cost about twice as much (docs/performance.md).
    """
    now = utcnow()
    title = derived_title(first_message)
    return insert(AgentSession).values(id=conversation_id, user_id=user_id, title=title, created_at=now, updated_at=now)


async def get_conversation(db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID) -> AgentSession:
    session = await db.get(AgentSession, conversation_id)
    if session is None or session.user_id != user_id:
        raise NotFound("no such conversation")
    return session


async def timezone_for_turn(db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID) -> str | None:
    """The user's timezone (None if unset), once the conversation is known to be theirs: one query.

    Raises `NotFound` as `get_conversation` does; a chat turn needs nothing else to start.
    """
    row = (
        await db.exec(
            select(AgentSession.id, UserContext.timezone)
            .outerjoin(UserContext, col(UserContext.user_id) == col(AgentSession.user_id))
            .where(col(AgentSession.id) == conversation_id, col(AgentSession.user_id) == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such conversation")
    return row[1]


async def list_conversations(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AgentSession], str | None]:
    """Most recently active first, by keyset so pages stay stable while new conversations arrive.

    `id` breaks ties in `updated_at`, so no conversation is skipped or repeated across pages.
    """
    query = select(AgentSession).where(col(AgentSession.user_id) == user_id)
    return await newest_first(db, query, col(AgentSession.updated_at), col(AgentSession.id), limit=limit, cursor=cursor)


async def rename_conversation(
    db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, title: str
) -> AgentSession:
    session = await get_conversation(db, user_id, conversation_id)
    session.title = clean_title(title)
    session.updated_at = utcnow()
    db.add(session)
    await db.commit()
    return session


async def delete_conversation(db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
    """Deletes the messages explicitly: a SQLite connection without `PRAGMA foreign_keys` ignores cascades."""
    session = await get_conversation(db, user_id, conversation_id)
    await db.exec(
        delete(AgentMessage).where(col(AgentMessage.session_id) == session.id, col(AgentMessage.user_id) == user_id)
    )
    await db.delete(session)
    await db.commit()


async def conversation_messages(db: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID) -> list[AgentMessage]:
    """Oldest first: `seq` is the insertion order, which timestamps cannot guarantee within one turn."""
    await get_conversation(db, user_id, conversation_id)
    rows = await db.exec(
        select(AgentMessage)
        .where(col(AgentMessage.session_id) == conversation_id, col(AgentMessage.user_id) == user_id)
        .order_by(col(AgentMessage.seq))
    )
    return list(rows.all())
