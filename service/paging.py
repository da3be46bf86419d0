"""Keyset pages, newest first, for every list whose rows arrive while a client pages through it.

The cursor is opaque to clients (base64 of the last row's timestamp and id), so the ordering key can
change without breaking their contract; `id` breaks ties, so no row is skipped or repeated.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel.ext.asyncio.session import AsyncSession

from service.errors import InvalidArgument
from service.todos import MAX_PAGE, as_utc


def _encode(moment: datetime, row_id: uuid.UUID) -> str:
    key = [as_utc(moment).isoformat(), str(row_id)]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        if not isinstance(moment, str) or not isinstance(row_id, str):
            raise TypeError("a cursor holds two strings")
        # Stored timestamps are UTC; SQLite compares them as text, so the bound value must be UTC too.
        return as_utc(datetime.fromisoformat(moment)).astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError):  # OverflowError: year 1 or 9999 moved out of range by UTC
        raise InvalidArgument("malformed cursor; pass next_cursor from the previous page unchanged") from None


async def newest_first(
    db: AsyncSession, query: Any, moment: Any, row_id: Any, *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """One page of `query` ordered by (`moment`, `row_id`) descending, and the next page's cursor."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be between 1 and {MAX_PAGE}")
    if cursor is not None:
        at, after = _decode(cursor)
        query = query.where(or_(moment < at, and_(moment == at, row_id < after)))
    # One row beyond the page says whether another page exists, without a count.
    rows = list((await db.exec(query.order_by(moment.desc(), row_id.desc()).limit(limit + 1))).all())
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return page, _encode(getattr(last, moment.key), last.id) if last is not None else None
