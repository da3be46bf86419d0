"""An app on the test database, a real HTTP client over ASGI, and real signed tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from agents import ModelProvider
from service.app import create_app
from service.auth import mint_token
from service.config import Settings
from service.db import Database
from tests.fake_llm import FAKE_PROVIDER, FakeLLM

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """The test app's settings: no `.env`, `TEST_SECRET`, the offline model, unless `overrides` say otherwise."""
    values: dict[str, Any] = {"auth_jwt_secret": TEST_SECRET, "model_provider": "offline", **overrides}
    return Settings(_env_file=None, database_url=database_url, **values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(database_url)


@pytest.fixture
def fake_provider_settings(database_url: str, fake: FakeLLM, fake_server: uvicorn.Server) -> Settings:
    """Settings whose model is the scripted OpenAI-compatible `fake`, over real HTTP. A module takes them with
    `from tests.api.conftest import fake_provider_settings as settings`."""
    return app_settings(database_url, **FAKE_PROVIDER, openai_base_url=fake.base_url)


@pytest.fixture
def model_provider() -> ModelProvider | None:
    """The app's models: None for the settings' own; a module overrides this to play the model (`ModelSlot`)."""
    return None


@pytest.fixture
async def app(settings: Settings, database: Database, model_provider: ModelProvider | None) -> AsyncIterator[FastAPI]:
    application = create_app(settings, model_provider=model_provider)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def make_token(settings: Settings):
    def _make(user: uuid.UUID, ttl: timedelta = timedelta(minutes=10)) -> str:
        return mint_token(settings, user, ttl)

    return _make


@pytest.fixture
def alice() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def bob() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def alice_auth(make_token, alice: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(alice)}"}


@pytest.fixture
def bob_auth(make_token, bob: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(bob)}"}


@pytest.fixture
async def bobs_todo(client: httpx.AsyncClient, bob: uuid.UUID, bob_auth: dict[str, str]) -> dict[str, Any]:
    """A todo on Bob's list, for the tests that Alice's turns never reveal or touch it."""
    created = await client.post(f"/api/{bob}/todos", json={"title": "Plan the surprise party"}, headers=bob_auth)
    assert created.status_code == 201, created.text
    todo: dict[str, Any] = created.json()
    return todo
