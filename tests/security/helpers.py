"""Shared by the security suites: the app's `/api` routes, and the checks every refusal must pass."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import httpx
from fastapi import FastAPI, routing

from tests.api.helpers import assert_error

# Words of library and exception text that a refusal must never carry back to the client.
INTERNALS = ("Traceback", 'File "', "jwt.", "PyJWT", "Error(", "sqlalchemy", "psycopg", "aiosqlite")


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) under `/api/`, read from the app, so a new route is never missed.

    FastAPI (>= 0.16x) keeps included routers unflattened in `app.routes`; `iter_route_contexts` is how
    FastAPI itself walks them to build the OpenAPI document. The result is checked against that document,
    so a future change in FastAPI's internals fails loudly here instead of making every matrix empty.
    """
    routes = sorted(
        (method, context.path)
        for context in routing.iter_route_contexts(app.routes)
        if context.path and context.path.startswith("/api/")
        for method in context.methods or ()
        if method != "HEAD"
    )
    documented = sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    )
    assert routes and set(documented) <= set(routes), (routes, documented)
    return routes


def fill_path(template: str, user: uuid.UUID | str, **ids: Any) -> str:
    """A concrete URL for a route template; ids not given are fresh random UUIDs."""
    values = {name: str(ids.get(name, uuid.uuid4())) for name in ("todo_id", "conversation_id")}
    return template.format(user_id=user, **values)


def assert_refused(response: httpx.Response, status: int, code: str, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A refusal in the one error shape, with no internals and none of `secrets` anywhere in the answer."""
    assert_error(response, status, code)
    assert_absent(response, secrets)
    for word in INTERNALS:
        assert word not in response.text, f"{word!r} leaked: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def assert_absent(response: httpx.Response, secrets: Iterable[str]) -> None:
    """Not one of `secrets` in the body or the headers (case-insensitive: ids may change case)."""
    seen = (response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())).lower()
    for secret in secrets:
        assert secret.lower() not in seen, f"{secret!r} leaked in {response.request.method} {response.request.url}"
