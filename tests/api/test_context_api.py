"""`/api/{user_id}/context` over real HTTP: defaults, replacement, timezone and preference limits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import Database
from service.users import ensure_user, get_context, put_context
from tests.api.helpers import assert_error

ADA = {"display_name": "Ada", "timezone": "Europe/London", "preferences": {"tone": "brief", "week_starts": "mon"}}


async def put(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], body: Any) -> httpx.Response:
    return await client.put(f"/api/{user}/context", json=body, headers=auth)


async def test_defaults_before_anything_is_stored(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    response = await client.get(f"/api/{alice}/context", headers=alice_auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"display_name": None, "timezone": None, "preferences": {}, "updated_at": None}


async def test_put_stores_and_get_returns_it(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    stored = await put(client, alice, alice_auth, ADA)
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert {k: body[k] for k in ADA} == ADA
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    assert (await client.get(f"/api/{alice}/context", headers=alice_auth)).json() == body


async def test_put_replaces_the_whole_context(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    first = (await put(client, alice, alice_auth, ADA)).json()
    second = (await put(client, alice, alice_auth, {"display_name": "Ada L."})).json()
    assert (second["display_name"], second["timezone"], second["preferences"]) == ("Ada L.", None, {})
    assert datetime.fromisoformat(second["updated_at"]) > datetime.fromisoformat(first["updated_at"])


async def test_a_first_put_that_loses_the_race_to_store_the_context_replaces_it(
    database: Database, alice: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.session() as db:
        await ensure_user(db, alice)
    async with database.session() as first, database.session() as second:
        first_read = True  # the second read the context before the first stored it, as at once

        async def read_before_the_first_stored(*args: Any, **kwargs: Any) -> Any:
            nonlocal first_read
            if first_read:
                first_read = False
                return None
            return await AsyncSession.get(second, *args, **kwargs)

        monkeypatch.setattr(second, "get", read_before_the_first_stored)
        await put_context(first, alice, display_name="first", timezone=None, preferences={})
        stored = await put_context(second, alice, display_name="second", timezone="Europe/Paris", preferences={})
    assert (stored.display_name, stored.timezone) == ("second", "Europe/Paris")  # it was a 409
    async with database.session() as db:
        assert (await get_context(db, alice)).display_name == "second"


async def test_unknown_timezone_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    before = (await put(client, alice, alice_auth, ADA)).json()
    # files of the machine's zone database are no zones a user lives in: "localtime", "Factory", "posix/…"
    for timezone in (
        "Mars/Olympus_Mons",
        "Europe",
        "../../etc/passwd",
        "",
        "localtime",
        "Factory",
        "posix/Europe/Paris",
    ):
        message = assert_error(
            await put(client, alice, alice_auth, {**ADA, "timezone": timezone}), 400, "invalid_argument"
        )
        assert "timezone" in message
    assert (await client.get(f"/api/{alice}/context", headers=alice_auth)).json() == before


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": {"notes": "x" * (16 * 1024)}},
        {"preferences": ["not", "an", "object"]},
        {"display_name": "x" * 201},
        {"timezone": "x" * 65},
        {"display_name": "Ada", "email": "ada@example.com"},
        {"display_name": "A\u0000da"},
        {"preferences": {"tags": ["ok", {"deep": "nul\u0000"}]}},
        {"preferences": {"k\u0000": 1}},
    ],
    ids=[
        "preferences-too-large",
        "preferences-not-object",
        "long-name",
        "long-timezone",
        "unknown-field",
        "nul-in-name",
        "nul-in-nested-preference",
        "nul-in-preference-key",
    ],
)
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], body: dict[str, Any]
) -> None:
    assert_error(await put(client, alice, alice_auth, body), 422, "validation_error")


async def test_preferences_up_to_the_limit_are_kept(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    preferences = {"notes": "x" * (16 * 1024 - len('{"notes":""}'))}  # exactly 16 KiB serialized
    response = await put(client, alice, alice_auth, {"preferences": preferences})
    assert response.status_code == 200, response.text
    assert response.json()["preferences"] == preferences


@pytest.mark.parametrize("raw", [b'{"preferences": {"x": NaN}}', b'{"preferences": {"x": "\\ud800"}}'])
async def test_json_python_parses_but_no_database_stores_is_refused(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], raw: bytes
) -> None:
    headers = {**alice_auth, "Content-Type": "application/json"}
    response = await client.put(f"/api/{alice}/context", content=raw, headers=headers)
    assert_error(response, 422, "validation_error")


async def test_malformed_json_is_400(client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]) -> None:
    headers = {**alice_auth, "Content-Type": "application/json"}
    response = await client.put(f"/api/{alice}/context", content=b"{display_name: Ada}", headers=headers)
    assert_error(response, 400, "invalid_json")


async def test_contexts_are_per_user(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    await put(client, alice, alice_auth, ADA)
    assert (await client.get(f"/api/{bob}/context", headers=bob_auth)).json()["display_name"] is None
