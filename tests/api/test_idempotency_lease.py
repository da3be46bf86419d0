"""An `Idempotency-Key` claim is a lease (issue 13 item 4): a worker that died mid-turn frees its key."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.idempotency import Claim, IdempotencyStore, request_fingerprint
from service.models import IdempotencyRecord, utcnow
from service.users import ensure_user
from tests.api.conftest import app_settings

LEASE_S = 0.5


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(database_url, conversation_lock_timeout_s=3.0, idempotency_lease_s=LEASE_S)


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_key_whose_worker_died_mid_turn_is_taken_over_by_the_retry(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """Before: the dead worker's claim stood for 24 h; every retry waited the lock timeout, then got 409."""
    body = {"message": "add buy milk", "conversation_id": None}
    async with database.session() as db:
        await ensure_user(db, alice)
        # What a worker killed mid-turn leaves behind: a claim with no response, nobody renewing it.
        db.add(
            IdempotencyRecord(
                user_id=alice,
                key="retry-me",
                request_hash=request_fingerprint(body),
                created_at=utcnow() - timedelta(minutes=2),
            )
        )
        await db.commit()

    started = time.monotonic()
    retry = await client.post(f"/api/{alice}/chat", json=body, headers={**alice_auth, "Idempotency-Key": "retry-me"})
    assert retry.status_code == 200, retry.text
    assert time.monotonic() - started < 2.5  # not the 3 s lock timeout
    again = await client.post(f"/api/{alice}/chat", json=body, headers={**alice_auth, "Idempotency-Key": "retry-me"})
    assert again.status_code == 200 and again.json() == retry.json()  # the retry's result is the key's now


async def test_a_running_claim_keeps_its_lease(database: Database, user_id: uuid.UUID) -> None:
    store = IdempotencyStore(database, wait_s=0.3, lease_s=1.0)
    first = await store.claim(user_id, "busy", "fp")
    assert isinstance(first, Claim)
    await asyncio.sleep(2.5)  # two and a half leases long: renewed while the turn runs
    from service.errors import Conflict

    with pytest.raises(Conflict):
        await store.claim(user_id, "busy", "fp")
    await first.complete({"ok": True})
    assert await store.claim(user_id, "busy", "fp") == {"ok": True}


async def test_an_abandoned_claim_expires_after_its_lease(database: Database, user_id: uuid.UUID) -> None:
    store = IdempotencyStore(database, wait_s=2.0, lease_s=0.2)
    first = await store.claim(user_id, "dead", "fp")
    assert isinstance(first, Claim)
    first.stop_renewing()  # as if its process died
    second = await store.claim(user_id, "dead", "fp")
    assert isinstance(second, Claim)
    await second.release()
