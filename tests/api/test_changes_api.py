"""`/api/{user_id}/changes` and `/changes/revert`: every REST write is logged, and undone through the log."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.helpers import assert_error

CHANGE_KEYS = {"id", "todo_id", "op", "before", "after", "conversation_id", "message_id", "created_at", "reverted_at"}


async def _todos(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/{user}/todos", headers=auth)
    assert response.status_code == 200, response.text
    todos: list[dict[str, Any]] = response.json()["todos"]
    return todos


async def _changes(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(f"/api/{user}/changes", params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_rest_writes_are_logged_newest_first_and_paged(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    todo = (await client.post(f"/api/{alice}/todos", json={"title": "Milk"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{todo['id']}"
    assert (await client.patch(url, json={"completed": True}, headers=alice_auth)).status_code == 200
    assert (await client.delete(url, headers=alice_auth)).status_code == 204

    log = (await _changes(client, alice, alice_auth))["changes"]
    assert [c["op"] for c in log] == ["delete", "update", "add"]
    assert all(set(c) == CHANGE_KEYS and c["todo_id"] == todo["id"] and c["message_id"] is None for c in log)
    delete, update, add = log
    assert add["before"] is None and add["after"]["title"] == "Milk"
    assert (update["before"]["completed"], update["after"]["completed"]) == (False, True)
    assert delete["before"]["completed"] is True and delete["after"] is None

    first = await _changes(client, alice, alice_auth, limit=2)
    assert [c["id"] for c in first["changes"]] == [delete["id"], update["id"]] and first["next_cursor"]
    rest = await _changes(client, alice, alice_auth, limit=2, cursor=first["next_cursor"])
    assert [c["id"] for c in rest["changes"]] == [add["id"]] and rest["next_cursor"] is None


async def test_revert_chosen_changes_restores_a_deleted_todo_in_its_place(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    for title in ("Milk", "Bread", "Eggs"):
        assert (await client.post(f"/api/{alice}/todos", json={"title": title}, headers=alice_auth)).status_code == 201
    before = await _todos(client, alice, alice_auth)
    bread = before[1]
    assert (
        await client.patch(f"/api/{alice}/todos/{bread['id']}", json={"title": "Rye"}, headers=alice_auth)
    ).is_success
    assert (await client.delete(f"/api/{alice}/todos/{bread['id']}", headers=alice_auth)).status_code == 204
    delete, rename = (await _changes(client, alice, alice_auth, limit=2))["changes"]

    response = await client.post(
        f"/api/{alice}/changes/revert", json={"change_ids": [rename["id"], delete["id"]]}, headers=alice_auth
    )
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["reverted"]] == [delete["id"], rename["id"]]  # newest first
    after = await _todos(client, alice, alice_auth)
    assert [(t["id"], t["title"]) for t in after] == [(t["id"], t["title"]) for t in before]
    assert after[1]["created_at"] == bread["created_at"]

    log = (await _changes(client, alice, alice_auth))["changes"]
    assert [c["op"] for c in log[:2]] == ["update", "add"]  # the revert is logged too: re-add, then rename back
    assert {c["id"] for c in log if c["reverted_at"]} == {delete["id"], rename["id"]}
    assert_error(
        await client.post(f"/api/{alice}/changes/revert", json={"change_ids": [delete["id"]]}, headers=alice_auth),
        409,
        "conflict",
    )


async def test_revert_of_a_todo_changed_since_is_409_naming_it_and_reverts_nothing(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    milk = (await client.post(f"/api/{alice}/todos", json={"title": "Milk"}, headers=alice_auth)).json()
    bread = (await client.post(f"/api/{alice}/todos", json={"title": "Bread"}, headers=alice_auth)).json()
    adds = (await _changes(client, alice, alice_auth))["changes"]
    await client.patch(f"/api/{alice}/todos/{milk['id']}", json={"title": "Oat milk"}, headers=alice_auth)

    response = await client.post(
        f"/api/{alice}/changes/revert", json={"change_ids": [c["id"] for c in adds]}, headers=alice_auth
    )
    message = assert_error(response, 409, "conflict")
    assert '"Oat milk"' in message and "Bread" not in message  # named as it is now, not as it was
    assert {t["id"] for t in await _todos(client, alice, alice_auth)} == {milk["id"], bread["id"]}


async def test_undoing_a_later_change_first_then_the_earlier_one(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """A red-team probe: after B was undone, the undo's own log rows made A "changed since" (409) forever."""
    milk = (await client.post(f"/api/{alice}/todos", json={"title": "Milk"}, headers=alice_auth)).json()
    await client.patch(f"/api/{alice}/todos/{milk['id']}", json={"completed": True}, headers=alice_auth)
    update, add = (await _changes(client, alice, alice_auth))["changes"]
    for change in (update, add):
        response = await client.post(
            f"/api/{alice}/changes/revert", json={"change_ids": [change["id"]]}, headers=alice_auth
        )
        assert response.status_code == 200, response.text
    assert await _todos(client, alice, alice_auth) == []


async def test_a_patch_that_changes_nothing_is_no_change_and_does_not_block_undo(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    milk = (await client.post(f"/api/{alice}/todos", json={"title": "Milk"}, headers=alice_auth)).json()
    url = f"/api/{alice}/todos/{milk['id']}"
    for same in ({}, {"title": "Milk"}, {"completed": False, "due_date": None}):
        response = await client.patch(url, json=same, headers=alice_auth)
        assert response.status_code == 200 and response.json() == milk, response.text
    (add,) = (await _changes(client, alice, alice_auth))["changes"]
    response = await client.post(f"/api/{alice}/changes/revert", json={"change_ids": [add["id"]]}, headers=alice_auth)
    assert response.status_code == 200, response.text
    assert await _todos(client, alice, alice_auth) == []


async def test_revert_bad_input_and_other_users_changes(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    await client.post(f"/api/{alice}/todos", json={"title": "Milk"}, headers=alice_auth)
    change = (await _changes(client, alice, alice_auth))["changes"][0]
    revert = f"/api/{bob}/changes/revert"
    assert_error(await client.post(revert, json={"change_ids": [change["id"]]}, headers=bob_auth), 404, "not_found")
    assert_error(await client.post(revert, json={"message_id": str(uuid.uuid4())}, headers=bob_auth), 404, "not_found")
    assert_error(await client.post(revert, json={}, headers=bob_auth), 400, "invalid_argument")
    assert_error(await client.post(revert, json={"change_ids": []}, headers=bob_auth), 422, "validation_error")
    assert_error(await client.post(revert, json={"message_id": "nope"}, headers=bob_auth), 422, "validation_error")
    assert_error(await client.get(f"/api/{bob}/changes?cursor=zzz", headers=bob_auth), 400, "invalid_argument")
    assert (await _changes(client, bob, bob_auth))["changes"] == []
