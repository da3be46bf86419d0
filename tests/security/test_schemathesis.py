"""Schemathesis over the app's own OpenAPI document, in-process (ASGI), with a real user's token.

Every operation gets schema-valid (positive) and schema-breaking (negative) requests generated from the
document, with the path's `user_id` fixed to the token's user so requests get past auth and reach the
handlers. All of schemathesis's checks run on every response: no 5xx, status codes, content types,
headers and bodies as documented, valid data accepted, invalid data rejected, auth not ignored, and so
on. A counting wrapper around the app sees every request (those the checks send themselves included),
so the total, and the absence of any 5xx, are measured at the server, not assumed.

Bounded: a fixed number of examples per operation (fewer for the chat turns, which run the agent) and
no Hypothesis deadline or example database, so a run takes the same few seconds every time.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
import schemathesis.python.asgi
from hypothesis import HealthCheck
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.app import create_app
from service.auth import mint_token
from service.config import Settings
from service.db import Database

# Examples per operation and generation mode. Chat runs a whole agent turn per request (and so can a
# decision on a paused turn).
EXAMPLES = 60
CHAT_EXAMPLES = 15
MIN_REQUESTS = 1000


@dataclass
class CountingApp:
    """The app, with every HTTP request it answers counted by status: the measured side of the run."""

    app: ASGIApp
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/openapi.json":
            await self.app(scope, receive, send)
            return

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
                if message["status"] >= 500:
                    self.server_errors.append(f"{scope['method']} {scope['path']} -> {message['status']}")
            await send(message)

        await self.app(scope, receive, counted_send)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


@pytest.fixture
def counted_app(settings: Settings, database: Database) -> Iterator[CountingApp]:
    """The app under test; schemathesis runs its lifespan on its own event loop and we end it here."""
    wrapper = CountingApp(create_app(settings))
    yield wrapper
    schemathesis.python.asgi.shutdown_lifespans()


def examples_for(path: str) -> int:
    return CHAT_EXAMPLES if path.endswith(("/chat", "/chat/stream", "/approvals", "/approvals/stream")) else EXAMPLES


# Statuses a schema-valid request may get besides schemathesis's defaults (2xx, 401/403/404/409/429).
# 400 is documented (ERROR_RESPONSES) as "a value the domain refuses": an unknown timezone, a blank title,
# a cursor the server never issued are schema-valid strings the domain still rejects.
DOMAIN_REFUSAL = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]


def run_config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            # The token as the document's own bearer scheme: schemathesis then knows it is valid, adds it
            # to every request except those meant to go without, and probes each operation without it.
            "auth": {"openapi": {"HTTPBearer": {"bearer": token}}},
            # Not a parameter to generate or break: negative cases go to the handlers instead of stopping at a
            # 401 (the `ignored_auth` check still sends every operation without the token, and with a bad one).
            "generation": {"with-security-parameters": False, "unique-inputs": True},
            "checks": {"positive_data_acceptance": {"expected-statuses": DOMAIN_REFUSAL}},
            "operations": [
                {
                    # A retried Idempotency-Key with a different body is refused with 422 (the IETF
                    # draft's answer); generated keys repeat, so schema-valid chat requests can meet it.
                    "include-path-regex": "/chat",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*DOMAIN_REFUSAL, "422"]}},
                }
            ],
        }
    )


def explore(operation: schemathesis.APIOperation, mode: GenerationMode, user: uuid.UUID) -> int:
    """Send `operation` its generated cases in `mode`, every check on every response; returns how many were sent."""
    fixed: dict[str, Any] = {"user_id": str(user)} if "{user_id}" in operation.path else {}
    sent = 0

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    @hypothesis.settings(
        max_examples=examples_for(operation.path),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate()

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):  # e.g. nothing to break in a parameterless GET
        run()
    return sent


def test_generated_requests_never_break_the_schema_or_the_server(counted_app: CountingApp, settings: Settings) -> None:
    user = uuid.uuid4()
    token = mint_token(settings, user, timedelta(hours=1))
    schema = schemathesis.openapi.from_asgi("/openapi.json", counted_app, config=run_config(token))
    started = time.monotonic()
    failures: list[str] = []
    generated: Counter[str] = Counter()  # cases sent, by generation mode (the checks' own probes come on top)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert any(op.path == "/api/{user_id}/chat" for op in operations)

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                generated[mode.value] += explore(operation, mode, user)
            except (Exception, BaseExceptionGroup) as exc:  # keep going: one report of every failing operation
                failures.append(f"{operation.label} [{mode.value}]: {exc}")

    elapsed = time.monotonic() - started
    print(
        f"schemathesis: {generated.total()} generated cases {dict(generated)}, {counted_app.total} requests "
        f"in {elapsed:.1f} s, statuses {dict(counted_app.statuses)}"
    )
    assert not failures, "\n\n".join(failures)
    assert counted_app.server_errors == []
    assert generated.total() >= MIN_REQUESTS
