"""`/api/{user_id}/conversations` over real HTTP, on conversations seeded through the ORM."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from service import conversations
from service.db import Database
from service.models import AgentMessage, AgentSession
from service.users import ensure_user
from tests.api.helpers import MILK_TODO, add_milk_turn, assert_error, seed_conversation

# In the past, so that anything written during a test is newer.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
MESSAGE_KEYS = {"id", "role", "kind", "content", "tool_name", "call_id", "arguments", "output", "created_at"}


async def test_history_returns_the_turn_in_order_with_parsed_tool_data(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    conversation = await seed_conversation(database, alice, title="Groceries", updated_at=T0)
    response = await client.get(f"/api/{alice}/conversations/{conversation}", headers=alice_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["title"]) == (str(conversation), "Groceries")
    assert datetime.fromisoformat(body["updated_at"]) == T0

    messages = body["messages"]
    assert [(m["role"], m["kind"]) for m in messages] == [
        ("user", "message"),
        ("assistant", "function_call"),
        ("tool", "function_call_output"),
        ("assistant", "message"),
    ]
    user, call, result, answer = messages
    assert (user["content"], user["arguments"], user["output"]) == ("add milk", None, None)
    assert (call["tool_name"], call["call_id"], call["arguments"], call["output"]) == (
        "add_todo",
        "call_1",
        {"title": "Milk"},
        None,
    )
    assert (result["call_id"], result["output"], result["arguments"]) == ("call_1", {"todo": MILK_TODO}, None)
    assert answer["content"] == "Added “Milk” to your list."
    assert all(set(m) == MESSAGE_KEYS for m in messages)
    assert all(datetime.fromisoformat(m["created_at"]).tzinfo is not None for m in messages)
    assert "item" not in response.text  # the raw SDK item stays internal


async def test_tool_data_that_is_not_json_is_shown_raw(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    conversation = await seed_conversation(database, alice, with_turn=False)
    async with database.session() as db:
        call, output = add_milk_turn(alice, conversation)[1:3]
        call.item = {**call.item, "arguments": '{"title": "Milk"'}  # a model cut off mid-arguments
        output.item = {**output.item, "output": "Added Milk"}
        db.add_all([call, output])
        await db.commit()
    messages = (await client.get(f"/api/{alice}/conversations/{conversation}", headers=alice_auth)).json()["messages"]
    assert [m["arguments"] for m in messages] == ['{"title": "Milk"', None]
    assert [m["output"] for m in messages] == [None, "Added Milk"]


async def test_list_pages_through_ties_in_updated_at(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID
) -> None:
    # Seven conversations over three instants: ties that only the id can order.
    instants = [T0, T0, T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0]
    seeded = [
        (moment, await seed_conversation(database, alice, title=f"c{n}", updated_at=moment, with_turn=False))
        for n, moment in enumerate(instants)
    ]
    await seed_conversation(database, bob, title="bob's", updated_at=T0 + timedelta(minutes=1))
    expected = [str(conversation_id) for _, conversation_id in sorted(seeded, reverse=True)]

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await client.get(f"/api/{alice}/conversations", params=params, headers=alice_auth)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([c["id"] for c in body["conversations"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not terminate"
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [c for page in pages for c in page] == expected


async def test_a_full_last_page_has_no_next_cursor(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    for n in range(2):
        await seed_conversation(database, alice, title=f"c{n}", with_turn=False)
    body = (await client.get(f"/api/{alice}/conversations", params={"limit": 2}, headers=alice_auth)).json()
    assert len(body["conversations"]) == 2 and body["next_cursor"] is None


async def test_empty_list(client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]) -> None:
    response = await client.get(f"/api/{alice}/conversations", headers=alice_auth)
    assert response.json() == {"conversations": [], "next_cursor": None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        _b64(b"not json"),
        _b64(json.dumps([1, 2]).encode()),
        _b64(json.dumps(["2026-11-20T09:30:00+00:00"]).encode()),
        _b64(json.dumps(["yesterday", str(uuid.uuid4())]).encode()),
        _b64(json.dumps(["2026-11-20T09:30:00+00:00", "not-a-uuid"]).encode()),
        _b64(b"\xff\xfe"),
        _b64(json.dumps(["2026-01-01T00:00:00", 5]).encode()),  # an id that is no string
        _b64(json.dumps([20260101, str(uuid.uuid4())]).encode()),
        _b64(json.dumps(["0001-01-01T00:00:00+05:00", str(uuid.uuid4())]).encode()),  # before year 1 in UTC
    ],
)
async def test_malformed_cursor_is_400(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], cursor: str
) -> None:
    response = await client.get(f"/api/{alice}/conversations", params={"cursor": cursor}, headers=alice_auth)
    assert "cursor" in assert_error(response, 400, "invalid_argument")


@pytest.mark.parametrize("limit", [0, 101, "many"])
async def test_list_limit_is_bounded(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], limit: Any
) -> None:
    response = await client.get(f"/api/{alice}/conversations", params={"limit": limit}, headers=alice_auth)
    assert_error(response, 422, "validation_error")


async def test_rename_trims_and_moves_the_conversation_first(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    older = await seed_conversation(database, alice, title="Old", updated_at=T0)
    await seed_conversation(database, alice, title="New", updated_at=T0 + timedelta(hours=1))
    response = await client.patch(
        f"/api/{alice}/conversations/{older}", json={"title": "  Weekly   shop "}, headers=alice_auth
    )
    assert response.status_code == 200, response.text
    renamed = response.json()
    assert set(renamed) == {"id", "title", "created_at", "updated_at"}
    assert renamed["title"] == "Weekly shop"
    assert datetime.fromisoformat(renamed["updated_at"]) > T0 + timedelta(hours=1)
    listed = (await client.get(f"/api/{alice}/conversations", headers=alice_auth)).json()["conversations"]
    assert [c["title"] for c in listed] == ["Weekly shop", "New"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"title": ""}, 422, "validation_error"),
        ({"title": "x" * 201}, 422, "validation_error"),
        ({"title": " \t "}, 400, "invalid_argument"),
        ({"title": None}, 422, "validation_error"),
        ({"title": "nul\u0000byte"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"title": "ok", "user_id": "x"}, 422, "validation_error"),
    ],
)
async def test_rename_rejects_bad_titles(
    client: httpx.AsyncClient,
    database: Database,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    conversation = await seed_conversation(database, alice, title="Groceries")
    url = f"/api/{alice}/conversations/{conversation}"
    assert_error(await client.patch(url, json=body, headers=alice_auth), status, code)
    assert (await client.get(url, headers=alice_auth)).json()["title"] == "Groceries"


async def test_delete_removes_the_conversation_and_its_messages_only(
    client: httpx.AsyncClient, database: Database, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    doomed = await seed_conversation(database, alice, title="Doomed")
    kept = await seed_conversation(database, alice, title="Kept")
    url = f"/api/{alice}/conversations/{doomed}"
    response = await client.delete(url, headers=alice_auth)
    assert response.status_code == 204 and response.content == b""
    assert_error(await client.get(url, headers=alice_auth), 404, "not_found")
    assert_error(await client.delete(url, headers=alice_auth), 404, "not_found")

    async with database.session() as db:
        rows = (await db.exec(select(AgentMessage.session_id))).all()
    assert rows and set(rows) == {kept}
    assert len((await client.get(f"/api/{alice}/conversations/{kept}", headers=alice_auth)).json()["messages"]) == 4


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_conversation_ids_must_be_uuids_and_exist(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], method: str
) -> None:
    body = {"title": "x"} if method == "PATCH" else None
    base = f"/api/{alice}/conversations"
    assert_error(await client.request(method, f"{base}/42", json=body, headers=alice_auth), 422, "validation_error")
    missing = await client.request(method, f"{base}/{uuid.uuid4()}", json=body, headers=alice_auth)
    assert_error(missing, 404, "not_found")


async def test_create_conversation_shortens_a_derived_title(database: Database, alice: uuid.UUID) -> None:
    """The chat turn titles a conversation after its first message, which may be far too long."""
    ids = {"long": uuid.uuid4(), "blank": uuid.uuid4(), "untitled": uuid.uuid4()}
    async with database.session() as db:
        await ensure_user(db, alice)
        await db.exec(conversations.creation(alice, "  remind me " + "very " * 100 + "much ", ids["long"]))
        await db.exec(conversations.creation(alice, " \n ", ids["blank"]))
        await db.exec(conversations.creation(alice, None, ids["untitled"]))
        await db.commit()
        stored = {row.id: row.title for row in (await db.exec(select(AgentSession))).all()}
    long = stored[ids["long"]]
    assert long is not None and len(long) == conversations.DERIVED_TITLE_CHARS
    assert long.startswith("remind me very") and long.endswith("…")
    assert stored[ids["blank"]] is None and stored[ids["untitled"]] is None


@pytest.mark.parametrize(
    "whole",
    ["e\u0301\u0301", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f44d\U0001f3fd", "\u2764\ufe0f"],
    ids=["combining-marks", "zwj-family", "skin-tone", "variation-selector"],
)
def test_a_derived_title_is_never_cut_inside_a_character(whole: str) -> None:
    """Cut where a character of several code points (an accented letter, an emoji sequence) begins, not inside it."""
    for lead in range(conversations.DERIVED_TITLE_CHARS - 8, conversations.DERIVED_TITLE_CHARS):
        title = conversations.derived_title("a" * lead + whole + " and a long tail" * 5)
        assert title is not None and title.endswith("…")
        kept = len(title) - 1
        assert kept <= lead or kept >= lead + len(whole), f"cut inside {whole!r} at {kept - lead}: {title!r}"
