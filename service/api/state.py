"""The application's state, typed: what start-up builds once and every request reads.

`create_app` builds one `AppState` in its lifespan and `attach`es it; routes and dependencies take
it as the `State` dependency, so no code reads `app.state`'s untyped attributes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.applications import Starlette

from service.admission import TurnAdmission
from service.agent.runtime import AgentRuntime
from service.auth import Authenticator
from service.config import Settings
from service.db import Database
from service.idempotency import IdempotencyStore
from service.limits import RateLimiter


@dataclass(frozen=True)
class AppState:
    settings: Settings
    database: Database
    authenticator: Authenticator
    agent: AgentRuntime
    admission: TurnAdmission
    rate_limiter: RateLimiter
    idempotency: IdempotencyStore
    # Users known to exist, kept by `current_user` (service.api.deps).
    known_users: set[uuid.UUID] = field(default_factory=set)

    def attach(self, app: Starlette) -> None:
        app.state.typed = self

    @staticmethod
    def of(app: Starlette) -> AppState:
        """The app's state; only while its lifespan runs."""
        state = getattr(app.state, "typed", None)
        if not isinstance(state, AppState):
            raise RuntimeError("the application has not started (its lifespan builds the state)")
        return state


async def get_state(request: Request) -> AppState:
    # async: FastAPI would run a plain `def` dependency in its threadpool, a thread hop on every request.
    return AppState.of(request.app)


State = Annotated[AppState, Depends(get_state)]
