"""More concurrent turns in one process than its connection pool has connections, on PostgreSQL.

Regression test for a deadlock the two-worker test met once by chance: each turn held a pooled
connection for its conversation's advisory lock for the whole turn and then needed a second one for
its history, tools and storage. With as many turns in flight as the pool has connections (30
then, see `service.db.make_engine`), every connection was a lock holder waiting for another:
the turns stalled for the pool's 30 s timeout, then most answered 503. One worker's event loop is
all it takes, so the app runs in-process here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx

from service.app import create_app
from service.config import Settings
from tests.reliability.service_process import SECRET, auth_headers
from tests.reliability.turns import stored_turns

POOL_CAPACITY = 30  # `service.db.POOL_SIZE` (no overflow)
TURNS = 2 * POOL_CAPACITY
BOUND_S = 20.0  # well under the pool's 30 s timeout that the deadlock ended on


async def test_twice_as_many_turns_as_pooled_connections_all_complete(postgres_url: str) -> None:
    settings = Settings(
        _env_file=None,
        database_url=postgres_url,
        auth_jwt_secret=SECRET,
        model_provider="offline",
        rate_limit_chat_per_minute=0,
    )
    app = create_app(settings)
    user = uuid.uuid4()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as http:
            started = time.monotonic()
            responses = await asyncio.gather(
                *(
                    http.post(f"/api/{user}/chat", json={"message": f"add pool probe {n}"}, headers=auth_headers(user))
                    for n in range(TURNS)
                )
            )
            elapsed = time.monotonic() - started
    statuses = Counter(r.status_code for r in responses)
    print(f"\n{TURNS} concurrent turns in one process: {dict(statuses)} in {elapsed:.1f} s")
    assert statuses == {200: TURNS}, [r.text for r in responses if r.status_code != 200][:3]
    assert elapsed < BOUND_S
    turns = await stored_turns(postgres_url, user)
    assert len(turns) == TURNS and all(len(conversation) == 1 for conversation in turns.values())
