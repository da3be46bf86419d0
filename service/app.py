"""The FastAPI application: wiring only; behaviour lives in the routers and the agent runtime."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agents import ModelProvider
from service import __version__
from service.admission import TurnAdmission
from service.agent.runtime import AgentRuntime
from service.api import approvals, changes, chat, context, conversations, health, page, todos
from service.api.body_limit import BodySizeLimit
from service.api.errors import UnhandledErrors, install_error_handlers
from service.api.headers import SecurityHeaders
from service.api.state import AppState
from service.api.turn_gate import TurnGate
from service.auth import Authenticator
from service.config import Settings, get_settings
from service.db import Database
from service.idempotency import IdempotencyStore
from service.limits import RateLimiter
from service.migrate import upgrade_async
from service.telemetry import instrument_app, setup_telemetry


def create_app(settings: Settings | None = None, model_provider: ModelProvider | None = None) -> FastAPI:
    """The app; its models come from `model_provider` if given (tests, the benchmark), else from the settings."""
    settings = settings or get_settings()
    setup_telemetry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade_async(settings.database_url)
        database = Database(settings.database_url)
        state = AppState(
            settings=settings,
            database=database,
            authenticator=Authenticator(settings),
            agent=AgentRuntime(settings, database, model_provider=model_provider),
            admission=TurnAdmission(settings.agent_max_inflight_turns),
            rate_limiter=RateLimiter(database, settings.rate_limit_chat_per_minute),
            idempotency=IdempotencyStore(
                database, wait_s=settings.conversation_lock_timeout_s, lease_s=settings.idempotency_lease_s
            ),
        )
        state.attach(app)
        # The ~290,000 objects of a started worker (the SDK, openai's types, pydantic schemas) never die,
        # yet every full collection walked them all: with 100 turns in flight, 9 % of the worker's CPU.
        # Frozen, the collector only looks at what turns allocate (docs/performance.md). Once per process:
        # the heap of a worker is made at its first start-up (tests start many apps in one process).
        if gc.get_freeze_count() == 0:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await state.agent.aclose()
            await database.dispose()

    app = FastAPI(
        title="Todo Agent Service",
        version=__version__,
        summary="Manage your todo list by chatting with an agent.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    instrument_app(app)
    app.add_middleware(UnhandledErrors)  # innermost: an unexpected failure is a 500 the others see as any answer
    app.add_middleware(TurnGate)  # a body over the cap is refused without a slot
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: the 413, the 503 and the 500 get the headers too
    app.include_router(health.router)
    app.include_router(page.router)
    app.mount("/static", page.StaticAssets(directory=page.STATIC_DIR), name="static")
    for module in (chat, approvals, conversations, todos, context, changes):
        app.include_router(module.router, prefix="/api/{user_id}")
    return app
