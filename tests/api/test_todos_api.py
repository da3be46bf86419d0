"""`/api/{user_id}/todos` over real HTTP: CRUD, filters, pagination and every kind of bad input."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select

from service import changes, todos
from service.db import Database
from service.models import TodoChange
from service.users import ensure_user
from tests.api.helpers import assert_error

TODO_KEYS = {"id", "title", "description", "completed", "due_date", "created_at", "updated_at"}


async def create(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/{user}/todos", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_crud_round_trip(client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]) -> None:
    todo = await create(client, alice, alice_auth, title="  Buy   milk ", description="2 litres", due_date="2026-12-01")
    assert set(todo) == TODO_KEYS
    assert todo["title"] == "Buy milk"  # the domain's trimming applies over REST too
    assert (todo["description"], todo["completed"], todo["due_date"]) == ("2 litres", False, "2026-12-01")
    assert datetime.fromisoformat(todo["created_at"]).tzinfo is not None
    assert todo["updated_at"] == todo["created_at"]  # one moment, not two readings of the clock
    url = f"/api/{alice}/todos/{todo['id']}"

    assert (await client.get(url, headers=alice_auth)).json() == todo

    patched = await client.patch(url, json={"completed": True, "title": "Buy oat milk"}, headers=alice_auth)
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["title"], changed["completed"], changed["description"]) == ("Buy oat milk", True, "2 litres")
    assert changed["due_date"] == "2026-12-01" and changed["created_at"] == todo["created_at"]
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(todo["updated_at"])

    deleted = await client.delete(url, headers=alice_auth)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(await client.get(url, headers=alice_auth), 404, "not_found")
    assert_error(await client.delete(url, headers=alice_auth), 404, "not_found")


async def test_patch_null_clears_optional_fields_and_absent_keeps_them(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = await create(client, alice, alice_auth, title="Dentist", description="bring card", due_date="2026-12-02")
    url = f"/api/{alice}/todos/{todo['id']}"

    kept = (await client.patch(url, json={"title": "Dentist at 9"}, headers=alice_auth)).json()
    assert (kept["description"], kept["due_date"]) == ("bring card", "2026-12-02")

    moved = (await client.patch(url, json={"due_date": "2026-12-09"}, headers=alice_auth)).json()
    assert moved["due_date"] == "2026-12-09"

    cleared = (await client.patch(url, json={"due_date": None, "description": None}, headers=alice_auth)).json()
    assert (cleared["title"], cleared["due_date"], cleared["description"]) == ("Dentist at 9", None, None)


@pytest.mark.parametrize(
    "body", [{"title": None}, {"completed": None}, {"title": ""}, {"title": "a\u0000"}, {"owner": "bob"}]
)
async def test_patch_rejects_nulls_for_required_fields_and_unknown_fields(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], body: dict[str, Any]
) -> None:
    todo = await create(client, alice, alice_auth, title="Dentist")
    url = f"/api/{alice}/todos/{todo['id']}"
    assert_error(await client.patch(url, json=body, headers=alice_auth), 422, "validation_error")
    assert (await client.get(url, headers=alice_auth)).json() == todo


async def test_list_filters_by_completed(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    for title in ("one", "two", "three"):
        await create(client, alice, alice_auth, title=title)
    listed = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]
    assert [t["title"] for t in listed] == ["one", "two", "three"]  # oldest first
    await client.patch(f"/api/{alice}/todos/{listed[1]['id']}", json={"completed": True}, headers=alice_auth)

    async def titles(completed: str) -> list[str]:
        response = await client.get(f"/api/{alice}/todos", params={"completed": completed}, headers=alice_auth)
        return [t["title"] for t in response.json()["todos"]]

    assert await titles("true") == ["two"]
    assert await titles("false") == ["one", "three"]


@pytest.mark.parametrize(
    ("params", "expected_titles", "pagination"),
    [
        ({}, ["t0", "t1", "t2", "t3", "t4"], {"limit": 50, "offset": 0, "total": 5, "has_more": False}),
        ({"limit": 2}, ["t0", "t1"], {"limit": 2, "offset": 0, "total": 5, "has_more": True}),
        ({"limit": 2, "offset": 2}, ["t2", "t3"], {"limit": 2, "offset": 2, "total": 5, "has_more": True}),
        ({"limit": 2, "offset": 4}, ["t4"], {"limit": 2, "offset": 4, "total": 5, "has_more": False}),
        (
            {"limit": 5, "offset": 0},
            ["t0", "t1", "t2", "t3", "t4"],
            {"limit": 5, "offset": 0, "total": 5, "has_more": False},
        ),
        ({"offset": 9}, [], {"limit": 50, "offset": 9, "total": 5, "has_more": False}),
        ({"completed": "true", "limit": 1}, ["t1"], {"limit": 1, "offset": 0, "total": 2, "has_more": True}),
        ({"completed": "true", "offset": 1}, ["t3"], {"limit": 50, "offset": 1, "total": 2, "has_more": False}),
    ],
)
async def test_pagination_math(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    params: dict[str, Any],
    expected_titles: list[str],
    pagination: dict[str, Any],
) -> None:
    for n in range(5):
        todo = await create(client, alice, alice_auth, title=f"t{n}")
        if n % 2:
            await client.patch(f"/api/{alice}/todos/{todo['id']}", json={"completed": True}, headers=alice_auth)
    response = await client.get(f"/api/{alice}/todos", params=params, headers=alice_auth)
    assert response.status_code == 200, response.text
    assert [t["title"] for t in response.json()["todos"]] == expected_titles
    assert response.json()["pagination"] == pagination


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}, {"completed": "maybe"}]
)
async def test_list_rejects_bad_query(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get(f"/api/{alice}/todos", params=params, headers=alice_auth)
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"title": ""}, 422, "validation_error"),
        ({"title": "x" * 201}, 422, "validation_error"),
        ({"title": "   "}, 400, "invalid_argument"),  # passes the schema, refused by the domain
        ({"title": "\u200b \ufeff"}, 400, "invalid_argument"),  # only invisible characters
        ({"title": "\u3164"}, 400, "invalid_argument"),  # a Hangul filler: a letter that draws nothing
        ({}, 422, "validation_error"),
        ({"title": "ok", "due_date": "2026-02-30"}, 422, "validation_error"),
        ({"title": "ok", "due_date": "next tuesday"}, 422, "validation_error"),
        ({"title": "ok", "due_date": "0"}, 422, "validation_error"),  # read as a Unix time, it was 1970-01-01
        ({"title": "ok", "due_date": "1700006400"}, 422, "validation_error"),
        ({"title": "ok", "due_date": "2026-02-28T00:00:00+14:00"}, 422, "validation_error"),
        ({"title": "ok", "due_date": "2026-02-28 00:00:00"}, 422, "validation_error"),
        ({"title": "ok", "description": "d" * 2001}, 422, "validation_error"),
        ({"title": "ok", "user_id": str(uuid.uuid4())}, 422, "validation_error"),
        ({"title": "ok", "completed": True}, 422, "validation_error"),  # a new todo is never done
        ({"title": "nul\u0000byte"}, 422, "validation_error"),  # PostgreSQL cannot store it
        ({"title": "ok", "description": "nul\u0000byte"}, 422, "validation_error"),
    ],
)
async def test_create_rejects_bad_bodies(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    assert_error(await client.post(f"/api/{alice}/todos", json=body, headers=alice_auth), status, code)
    listed = (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()
    assert listed["pagination"]["total"] == 0


async def test_a_title_joining_emoji_with_invisible_joiners_is_kept(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467 dinner"
    created = await client.post(f"/api/{alice}/todos", json={"title": family}, headers=alice_auth)
    assert created.status_code == 201 and created.json()["title"] == family


async def test_longest_title_is_accepted(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    assert (await create(client, alice, alice_auth, title="x" * 200))["title"] == "x" * 200


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_malformed_json_is_400_invalid_json(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], method: str
) -> None:
    todo = await create(client, alice, alice_auth, title="Dentist")
    url = f"/api/{alice}/todos" + (f"/{todo['id']}" if method == "PATCH" else "")
    headers = {**alice_auth, "Content-Type": "application/json"}
    response = await client.request(method, url, content=b'{"title": "unterminated', headers=headers)
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    ("todo_id", "status", "code"),
    [("not-a-uuid", 422, "validation_error"), (str(uuid.uuid4()), 404, "not_found")],
    ids=["not-a-uuid", "unknown"],
)
async def test_a_todo_id_must_be_a_uuid_of_an_existing_todo(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    method: str,
    todo_id: str,
    status: int,
    code: str,
) -> None:
    response = await client.request(
        method, f"/api/{alice}/todos/{todo_id}", headers=alice_auth, json={} if method == "PATCH" else None
    )
    assert_error(response, status, code)


async def test_openapi_documents_bodies_and_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    patch = spec["paths"]["/api/{user_id}/todos/{todo_id}"]["patch"]
    for status in ("401", "403", "404", "422"):
        schema = patch["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    changes = spec["components"]["schemas"]["TodoChanges"]
    assert changes["additionalProperties"] is False and "required" not in changes
    assert changes["properties"]["title"]["type"] == "string"  # never null, unlike due_date
    assert {"type": "null"} in changes["properties"]["due_date"]["anyOf"]
    listed = spec["paths"]["/api/{user_id}/todos"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"] == {"$ref": "#/components/schemas/TodoList"}


async def test_concurrent_deletes_of_one_todo_delete_it_once(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = (await client.post(f"/api/{alice}/todos", json={"title": "Water the plants"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{todo['id']}"
    answers = await asyncio.gather(*(client.delete(url, headers=alice_auth) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [204] + [404] * 5
    for response in answers[1:]:
        if response.status_code != 204:
            assert_error(response, 404, "not_found")
    changes = (await client.get(f"/api/{alice}/changes", headers=alice_auth)).json()["changes"]
    assert [change["op"] for change in changes] == ["delete", "add"]  # one deletion logged, not one per request


async def test_an_update_racing_a_delete_is_answered_without_a_server_error(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = (await client.post(f"/api/{alice}/todos", json={"title": "Water the plants"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{todo['id']}"
    answers = await asyncio.gather(
        *(client.patch(url, json={"completed": True}, headers=alice_auth) for _ in range(4)),
        *(client.delete(url, headers=alice_auth) for _ in range(4)),
    )
    assert {r.status_code for r in answers} <= {200, 204, 404, 409}
    assert sum(r.status_code == 204 for r in answers) == 1
    assert (await client.get(url, headers=alice_auth)).status_code == 404


async def test_parallel_patches_of_one_todo_leave_a_log_whose_steps_chain_to_the_stored_todo(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = (await client.post(f"/api/{alice}/todos", json={"title": "orig"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{todo['id']}"
    bodies = [{"title": f"n{i}"} for i in range(6)] + [{"completed": True}, {"due_date": "2026-12-24"}]
    answers = await asyncio.gather(*(client.patch(url, json=body, headers=alice_auth) for body in bodies))
    assert {r.status_code for r in answers} <= {200, 409}
    changes = (await client.get(f"/api/{alice}/changes", headers=alice_auth)).json()["changes"][::-1]
    fields = ("title", "completed", "due_date")
    for earlier, later in itertools.pairwise(changes):
        assert {k: later["before"][k] for k in fields} == {k: earlier["after"][k] for k in fields}
    stored = (await client.get(url, headers=alice_auth)).json()
    assert {k: stored[k] for k in fields} == {k: changes[-1]["after"][k] for k in fields}
    assert len(changes) == 1 + sum(r.status_code == 200 for r in answers)  # every answered change logged once


async def test_two_writers_of_one_todo_at_once_both_apply_and_each_logged_step_is_real(
    database: Database, alice: uuid.UUID
) -> None:
    async with database.session() as db:
        await ensure_user(db, alice)
        todo_id = (await todos.add_todo(db, alice, title="orig")).id
    async with database.session() as first, database.session() as second, database.session() as third:
        for db in (first, second, third):  # all read the same version, as requests at once do
            await todos.get_todo(db, alice, todo_id)
        await todos.update_todo(first, alice, todo_id, title="renamed")
        # Written from the version it read, it would have undone the rename unseen; it applies to the rename.
        updated = await todos.update_todo(second, alice, todo_id, completed=True)
        assert (updated.title, updated.completed) == ("renamed", True)
        deleted = await todos.delete_todo(third, alice, todo_id)  # logs what it deleted, not what it first read
        assert (deleted.title, deleted.completed) == ("renamed", True)
    async with database.session() as db:
        steps = [
            (c.op, c.before, c.after) for c in await db.exec(select(TodoChange).order_by(col(TodoChange.created_at)))
        ]
    states = [(s["title"], s["completed"]) if s else None for _, before, after in steps for s in (before, after)]
    assert [op for op, _, _ in steps] == ["add", "update", "update", "delete"]
    # each step starts where the one before it ended
    assert states == [
        None,
        ("orig", False),
        ("orig", False),
        ("renamed", False),
        ("renamed", False),
        ("renamed", True),
        ("renamed", True),
        None,
    ]


async def test_an_undo_does_not_overwrite_a_change_made_after_its_check(
    database: Database, alice: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn = uuid.uuid4()
    async with database.session() as db:
        await ensure_user(db, alice)
        todo_id = (await todos.add_todo(db, alice, title="Buy milk")).id
        await todos.update_todo(db, alice, todo_id, completed=True, origin=todos.Origin(message_id=turn))
    check = changes._changed_since

    async def edited_right_after_the_check(*args: Any) -> Any:
        checked = await check(*args)
        async with database.session() as other:
            await todos.update_todo(other, alice, todo_id, description="note")
        return checked

    monkeypatch.setattr(changes, "_changed_since", edited_right_after_the_check)
    async with database.session() as db:
        with pytest.raises(StaleDataError):  # a 409 over HTTP; it undid the completion and wiped the note
            await changes.revert(db, alice, message_id=turn)
    async with database.session() as db:
        kept = await todos.get_todo(db, alice, todo_id)
        assert (kept.completed, kept.description) == (True, "note")


async def test_undoing_chosen_changes_restores_only_their_fields_and_keeps_a_rename_between_them(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = (await client.post(f"/api/{alice}/todos", json={"title": "Buy milk"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{todo['id']}"
    for body in ({"completed": True}, {"title": "Buy oat milk"}, {"due_date": "2027-01-05"}):
        assert (await client.patch(url, json=body, headers=alice_auth)).status_code == 200
    done, _renamed, dated = (await client.get(f"/api/{alice}/changes", headers=alice_auth)).json()["changes"][2::-1]
    chosen = {"change_ids": [done["id"], dated["id"]]}
    assert (await client.post(f"/api/{alice}/changes/revert", json=chosen, headers=alice_auth)).status_code == 200
    stored = (await client.get(url, headers=alice_auth)).json()
    # the rename, not chosen, stays (the undo restored all four fields of each change and lost it)
    assert (stored["title"], stored["completed"], stored["due_date"]) == ("Buy oat milk", False, None)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"title": "\xff\xfe"}', "application/json", 400, "invalid_json"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "invalid_json"),
        (b'{"title": "Buy milk"}', None, 415, "unsupported_media_type"),
        (b'{"title": "Buy milk"}', "text/plain", 415, "unsupported_media_type"),
        (b'"Buy milk"', "application/json", 422, "validation_error"),
    ],
    ids=["invalid-utf8", "nested-5000-deep", "no-content-type", "text-plain", "json-string"],
)
async def test_a_body_not_read_as_json_is_400_invalid_json_or_415_and_stores_nothing(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    body: bytes,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    headers = {**alice_auth, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post(f"/api/{alice}/todos", content=body, headers=headers)
    assert_error(response, status, code)
    assert (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"] == []
