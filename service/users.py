"""Users (created on their first valid token) and their context: display name, timezone, preferences."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import InvalidArgument
from service.models import User, UserContext, utcnow


async def ensure_user(db: AsyncSession, user_id: uuid.UUID, email: str | None = None) -> None:
    if await db.get(User, user_id) is not None:
        return
    db.add(User(id=user_id, email=email))
    try:
        await db.commit()
    except IntegrityError:  # a concurrent first request created it
        await db.rollback()


async def get_context(db: AsyncSession, user_id: uuid.UUID) -> UserContext:
    """The stored context, or an empty one (not stored) for a user who never set any."""
    return await db.get(UserContext, user_id) or UserContext(user_id=user_id, preferences={})


async def stored_timezone(db: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The user's timezone, None if unset: one column, for the chat turn (0.2 ms of CPU less than `get_context`)."""
    return (await db.exec(select(UserContext.timezone).where(col(UserContext.user_id) == user_id))).first()


# The IANA names, read once at import (not on the event loop); "localtime" and "Factory" are files of this
# machine's zone database, not zones a user lives in, and "posix/…", "right/…" copies are not listed.
_IANA_NAMES = frozenset(available_timezones()) - {"localtime", "Factory"}


def valid_timezone(name: str | None) -> str | None:
    if name is None:
        return None
    if name not in _IANA_NAMES:
        raise InvalidArgument(f"unknown timezone {name!r}; use an IANA name like Europe/London")
    return name


async def put_context(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    display_name: str | None,
    timezone: str | None,
    preferences: dict[str, Any],
) -> UserContext:
    timezone = valid_timezone(timezone)
    for first_try in (True, False):
        context = await db.get(UserContext, user_id) or UserContext(user_id=user_id)
        context.display_name, context.timezone, context.preferences = display_name, timezone, preferences
        context.updated_at = utcnow()
        for field in ("display_name", "timezone", "preferences"):  # every column: a PUT replaces the whole, and
            flag_modified(context, field)  # a column left out of the UPDATE kept a concurrent PUT's value
        db.add(context)
        try:
            await db.commit()
            return context
        except IntegrityError:  # a concurrent first PUT stored it: a PUT replaces the whole, so this one wins
            if not first_try:
                raise
            await db.rollback()
            db.expunge_all()
    raise AssertionError("unreachable")
