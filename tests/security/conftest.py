"""Fixtures for the security suites: the API tests' app, client and tokens, with the chat rate limit off.

The suites send dozens of turns per user within a minute; the limit has tests of its own and would only
turn a security assertion into a 429 here. `app_client` builds extra apps for other auth settings
(audience, issuer, JWKS) on the same test database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.config import Settings
from service.db import Database
from tests.api.conftest import (  # noqa: F401  (fixtures, re-exported for this folder)
    TEST_SECRET,
    alice,
    alice_auth,
    app,
    app_settings,
    bob,
    bob_auth,
    client,
    make_token,
    model_provider,
)

AppClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Several tool calls in one response would pause for approval (bulk): these tests are about ownership.
    return app_settings(database_url, rate_limit_chat_per_minute=0, agent_approval="never")


@pytest.fixture
async def app_client(settings: Settings, database: Database) -> AsyncIterator[AppClient]:
    """`await app_client(auth_audience=...)`: a client of a fresh app whose settings differ from `settings`."""
    async with AsyncExitStack() as stack:

        async def _make(**overrides: Any) -> httpx.AsyncClient:
            application: FastAPI = create_app(settings.model_copy(update=overrides))
            await stack.enter_async_context(application.router.lifespan_context(application))
            transport = httpx.ASGITransport(app=application)
            return await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://testserver"))

        yield _make
