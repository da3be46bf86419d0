"""The ASGI apps the benchmark serves, each behind uvicorn exactly as `python -m service serve` runs it.

- `ours`: the service itself (`service.app.create_app`). With `BENCH_MODEL=instant` the instant fake
  model stands in for its offline model (through the model provider the app is given, so the service
  keeps no benchmark hook); with `BENCH_MODEL=offline` (the default) its models are the settings' own.
- `hello`: FastAPI hello world, the HTTP ceiling.
- `alternative`: the straightforward SDK-based service: one FastAPI endpoint that checks the JWT and
  runs the same agent (same tools, instructions, model) with the SDK's `SQLAlchemySession` as memory.

Each is a factory for `uvicorn --factory`, so every worker process builds its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from agents import Agent, Model, ModelSettings, RunConfig, Runner


def bench_model() -> Model:
    """The model named by `BENCH_MODEL`: `instant` (the fake one) or `offline` (the service's own)."""
    if os.environ.get("BENCH_MODEL", "offline") == "instant":
        from bench.instant_model import InstantModel

        return InstantModel()
    from service.agent.offline import OfflineModel

    return OfflineModel()


def ours(wrap: Callable[[Model], Model] = lambda model: model) -> FastAPI:
    """The service's app on the settings' models, each passed through `wrap` (the profile's ablations keep them)."""
    from service.agent.providers import SettingsModelProvider
    from service.agent.spec import load_spec
    from service.app import create_app
    from service.config import get_settings

    settings = get_settings()
    instant = None
    if os.environ.get("BENCH_MODEL", "offline") == "instant":
        from bench.instant_model import InstantModel

        instant = InstantModel()  # the provider wraps it in the same `chat` span as the offline model
    models = SettingsModelProvider(settings, load_spec().model, offline=instant, wrap=wrap)
    return create_app(settings, model_provider=models)


def hello() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"hello": "world"}

    return app


SDK_SESSIONS = "sdk_sessions"
SDK_MESSAGES = "sdk_messages"


def plain_agent(tools: list[Any] | None = None) -> Agent[Any]:
    """The service's agent as the SDK alone would build it from the spec: same instructions (with the
    date line), tools and model settings; no guardrails, no hooks."""
    from service.agent.context import current_date_line
    from service.agent.spec import load_spec
    from service.agent.tools import ALL_TOOLS

    spec = load_spec()

    def instructions(ctx: Any, _agent: Any) -> str:
        return f"{spec.instructions}\n\n{current_date_line(ctx.context)}"

    return Agent(
        name=spec.name,
        instructions=instructions,
        tools=tools if tools is not None else [ALL_TOOLS[name] for name in spec.tools],
        model_settings=ModelSettings(temperature=spec.temperature, max_tokens=spec.max_tokens),
    )


def sdk_session(engine: Any, conversation_id: str, *, create_tables: bool = False) -> Any:
    """The SDK's `SQLAlchemySession` on its own tables, reading the same history window as the service."""
    from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
    from agents.memory import SessionSettings

    from service.agent.spec import load_spec

    return SQLAlchemySession(
        conversation_id,
        engine=engine,
        create_tables=create_tables,
        sessions_table=SDK_SESSIONS,
        messages_table=SDK_MESSAGES,
        session_settings=SessionSettings(limit=load_spec().history_limit),
    )


class ChatRequest(BaseModel):
    message: str
    conversation_id: uuid.UUID | None = None


def alternative() -> FastAPI:
    """`POST /api/{user_id}/chat` with the SDK's `SQLAlchemySession`, as the SDK's docs suggest it.

    Fair to it: the tables are created once at start-up (not per request), the history read has the
    same window as ours, the engine is pooled, and it records no traces at all (SDK tracing off, no
    OpenTelemetry).
    """
    import jwt
    from fastapi import Header, HTTPException

    from service.agent.context import TurnContext
    from service.db import Database

    secret = os.environ["AUTH_JWT_SECRET"]
    agent = plain_agent()
    run_config = RunConfig(model=bench_model(), tracing_disabled=True)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        database = state["database"] = Database(os.environ["DATABASE_URL"])
        await sdk_session(database.engine, str(uuid.uuid4()), create_tables=True).get_items()
        yield
        await database.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/{user_id}/chat")
    async def chat(user_id: uuid.UUID, body: ChatRequest, authorization: str = Header()) -> dict[str, Any]:
        try:
            claims = jwt.decode(authorization.removeprefix("Bearer "), secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise HTTPException(401) from None
        if claims.get("sub") != str(user_id):
            raise HTTPException(403)
        conversation_id = str(body.conversation_id or uuid.uuid4())
        database = state["database"]
        context = TurnContext(user_id=user_id, db=database, today=datetime.now(UTC).date())
        session = sdk_session(database.engine, conversation_id)
        result = await Runner.run(agent, body.message, session=session, context=context, run_config=run_config)
        return {"conversation_id": conversation_id, "response": str(result.final_output)}

    return app
