"""Request dependencies: the database session and the authenticated, path-matched user."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from service.api.state import State
from service.db import Database
from service.errors import Forbidden, Unauthorized
from service.users import ensure_user

# Users known to exist, so an authenticated request costs no extra query once the user is created.
KNOWN_USERS_MAX = 10_000

_bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` is the user's UUID")


async def get_database(state: State) -> Database:  # async: no threadpool hop (see get_state)
    return state.database


log = logging.getLogger(__name__)


async def get_db(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    """The request's session, closed after the response has started.

    Its closing ROLLBACK fails when the database went away meanwhile. Raised then, the error had no
    response left to become and made the server drop the keep-alive connection; the response is
    already complete, and the pool discards the broken connection, so it is only logged.
    """
    session = database.sessionmaker()
    try:
        yield session
    finally:
        try:
            await session.close()
        except (OperationalError, InterfaceError) as exc:
            log.warning("closing a request's database session failed: %s", type(getattr(exc, "orig", exc)).__name__)


async def current_user(
    state: State,
    user_id: str,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    database: Annotated[Database, Depends(get_database)],
) -> uuid.UUID:
    """The path's `{user_id}`, once the bearer token proves it is the caller."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    principal = await state.authenticator.verify(credentials.credentials)
    if user_id.lower() != str(principal.user_id):
        raise Forbidden("the token does not belong to this user")
    known = state.known_users
    if principal.user_id not in known:
        async with database.session() as session:
            await ensure_user(session, principal.user_id, principal.email)
        if len(known) >= KNOWN_USERS_MAX:  # a cache, not a registry: start over rather than grow
            known.clear()
        known.add(principal.user_id)
    return principal.user_id


DbSession = Annotated[AsyncSession, Depends(get_db)]
CurrentUser = Annotated[uuid.UUID, Depends(current_user)]


async def chat_rate_limit(state: State, user_id: CurrentUser) -> None:
    """Count a chat request against its user's quota (429 with Retry-After once it is spent)."""
    await state.rate_limiter.hit(f"chat:{user_id}")
