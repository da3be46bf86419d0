"""Approvals before bulk deletes (DESIGN §6a) over HTTP: the pause, "yes" / "no", the approvals route,
undo of the approved turn, and every way a decision can be wrong."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.helpers import assert_error, chat
from tests.scripted_model import ModelSlot, scripted


@pytest.fixture
def model_provider() -> ModelSlot:
    """The offline model, unless a test scripts the model's calls."""
    return ModelSlot()


async def _seed(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> None:
    for title, done in (("Buy milk", True), ("Call mom", False), ("Pay rent", True), ("Walk dog", True)):
        todo = (await client.post(f"/api/{user}/todos", json={"title": title}, headers=auth)).json()
        if done:
            await client.patch(f"/api/{user}/todos/{todo['id']}", json={"completed": True}, headers=auth)


async def _titles(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> list[str]:
    todos = (await client.get(f"/api/{user}/todos", headers=auth)).json()["todos"]
    return [t["title"] for t in todos]


async def _paused(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str]) -> dict[str, Any]:
    await _seed(client, user, auth)
    body = await chat(client, user, auth, "delete everything I've finished")
    assert body["status"] == "awaiting_approval", body
    return body


async def test_bulk_delete_pauses_naming_each_todo_then_yes_deletes_and_undo_restores(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    paused = await _paused(client, alice, alice_auth)
    assert [a["tool"] for a in paused["approvals"]] == ["delete_todo"] * 3
    assert {a["summary"] for a in paused["approvals"]} == {
        'Delete "Buy milk"',
        'Delete "Pay rent"',
        'Delete "Walk dog"',
    }
    for title in ("Buy milk", "Pay rent", "Walk dog"):
        assert title in paused["response"]
    assert "yes or no" in paused["response"]
    assert [c["name"] for c in paused["tool_calls"]] == ["list_todos"]  # no delete ran
    assert len(await _titles(client, alice, alice_auth)) == 4

    done = await chat(client, alice, alice_auth, "yes", paused["conversation_id"])
    assert done["status"] == "completed" and done["approvals"] == []
    assert [c["name"] for c in done["tool_calls"]] == ["delete_todo"] * 3
    assert await _titles(client, alice, alice_auth) == ["Call mom"]
    assert "deleted" in done["response"].lower()

    undone = await client.post(
        f"/api/{alice}/changes/revert", json={"message_id": done["message_id"]}, headers=alice_auth
    )
    assert undone.status_code == 200, undone.text
    assert len(undone.json()["reverted"]) == 3
    assert await _titles(client, alice, alice_auth) == ["Buy milk", "Call mom", "Pay rent", "Walk dog"]


async def test_no_rejects_and_nothing_is_deleted(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    paused = await _paused(client, alice, alice_auth)
    done = await chat(client, alice, alice_auth, "no", paused["conversation_id"])
    assert done["status"] == "completed"
    assert len(await _titles(client, alice, alice_auth)) == 4
    assert done["response"].startswith("OK, I didn't delete anything.")
    assert [r["output"]["error"]["code"] for r in done["tool_results"]] == ["rejected"] * 3


async def test_another_message_rejects_what_is_pending_and_runs_as_a_new_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    paused = await _paused(client, alice, alice_auth)
    turn = await chat(client, alice, alice_auth, "add oat milk", paused["conversation_id"])
    assert [c["name"] for c in turn["tool_calls"]] == ["add_todo"]
    assert len(await _titles(client, alice, alice_auth)) == 5
    later = await chat(client, alice, alice_auth, "yes", paused["conversation_id"])  # nothing waits any more
    assert later["status"] == "completed" and later["tool_calls"] == []
    ids = [{"id": a["id"], "approve": True} for a in paused["approvals"]]
    url = f"/api/{alice}/conversations/{paused['conversation_id']}/approvals"
    assert_error(await client.post(url, json={"decisions": ids}, headers=alice_auth), 409, "conflict")


@pytest.mark.parametrize(
    ("said", "deleted"),
    [
        ("just the second one", "Pay rent"),  # positions count in the question's list, not in the whole list
        ("delete the second one", "Pay rent"),  # it deleted "Call mom", second on the list, never in the question
        ("only the last one", "Walk dog"),
        ("yes but only the milk", "Buy milk"),
        ("no thanks, just the first one please", "Buy milk"),
        ("Only the last one, please. I'd like to keep the others for now.", "Walk dog"),  # why, in a sentence after
    ],
)
async def test_a_reply_naming_fewer_todos_changes_only_those(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], said: str, deleted: str
) -> None:
    """Not a yes: nothing of the question runs; the offline model reads it as the same change to fewer todos."""
    paused = await _paused(client, alice, alice_auth)
    turn = await chat(client, alice, alice_auth, said, paused["conversation_id"])
    assert turn["status"] == "completed" and turn["response"] == f'Deleted "{deleted}".'
    left = ["Buy milk", "Call mom", "Pay rent", "Walk dog"]
    assert await _titles(client, alice, alice_auth) == [title for title in left if title != deleted]


async def test_a_yes_acts_on_the_todos_the_question_named_as_they_were_then(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    """A todo edited after the question stays; one deleted and added again under the same title is a new todo
    the user never saw in the question, so it stays too; the rest are deleted."""
    paused = await _paused(client, alice, alice_auth)
    assert all(set(a) == {"id", "tool", "arguments", "summary"} for a in paused["approvals"])  # the pins stay inside
    todos = {t["title"]: t for t in (await client.get(f"/api/{alice}/todos", headers=alice_auth)).json()["todos"]}
    edited = await client.patch(
        f"/api/{alice}/todos/{todos['Pay rent']['id']}",
        json={"description": "the landlord's new account"},
        headers=alice_auth,
    )
    assert edited.status_code == 200, edited.text
    assert (await client.delete(f"/api/{alice}/todos/{todos['Walk dog']['id']}", headers=alice_auth)).status_code == 204
    again = await client.post(f"/api/{alice}/todos", json={"title": "Walk dog"}, headers=alice_auth)
    await client.patch(f"/api/{alice}/todos/{again.json()['id']}", json={"completed": True}, headers=alice_auth)

    done = await chat(client, alice, alice_auth, "yes", paused["conversation_id"])
    assert done["status"] == "completed"
    assert sorted(await _titles(client, alice, alice_auth)) == ["Call mom", "Pay rent", "Walk dog"]
    codes = sorted(r["output"]["error"]["code"] for r in done["tool_results"] if "error" in r["output"])
    assert codes == ["conflict", "not_found"]
    assert "Pay rent" in done["response"] and "changed after I asked" in done["response"], done["response"]


async def test_positions_in_a_paused_call_mean_the_todos_the_question_named(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], model_provider: ModelSlot
) -> None:
    """A small model (recorded) deleted "1" and "2" in one response: the question named the todos at those
    positions, and the yes deletes those two, though deleting the first moves the second up to "1"."""
    for title in ("Hang pictures", "Fix the gate"):
        await client.post(f"/api/{alice}/todos", json={"title": title}, headers=alice_auth)
    calls = [("add_todo", {"title": "Tidy the shed"}), ("delete_todo", {"todo": "1"}), ("delete_todo", {"todo": "2"})]
    model_provider.model = scripted([calls, "Done."])
    paused = await chat(client, alice, alice_auth, "bin all my tasks, I want a clean slate")
    assert [a["summary"] for a in paused["approvals"]] == ['Delete "Hang pictures"', 'Delete "Fix the gate"']
    await chat(client, alice, alice_auth, "yes", paused["conversation_id"])
    assert await _titles(client, alice, alice_auth) == ["Tidy the shed"]


async def test_approvals_route_decides_each_call_and_a_second_decision_is_409(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    paused = await _paused(client, alice, alice_auth)
    first, *rest = paused["approvals"]
    decisions = [{"id": first["id"], "approve": True}, *({"id": a["id"], "approve": False} for a in rest)]
    url = f"/api/{alice}/conversations/{paused['conversation_id']}/approvals"
    response = await client.post(url, json={"decisions": decisions}, headers=alice_auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed" and body["conversation_id"] == paused["conversation_id"]
    assert "user said no" in body["response"] and ".." not in body["response"]  # each refusal one sentence
    assert len(await _titles(client, alice, alice_auth)) == 3
    assert first["summary"].removeprefix('Delete "').rstrip('"') not in await _titles(client, alice, alice_auth)
    assert_error(await client.post(url, json={"decisions": decisions}, headers=alice_auth), 409, "conflict")


async def test_foreign_unknown_and_malformed_decisions(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    paused = await _paused(client, alice, alice_auth)
    decisions = {"decisions": [{"id": a["id"], "approve": True} for a in paused["approvals"]]}
    bobs = f"/api/{bob}/conversations/{paused['conversation_id']}/approvals"
    assert_error(await client.post(bobs, json=decisions, headers=bob_auth), 404, "not_found")
    url = f"/api/{alice}/conversations/{paused['conversation_id']}/approvals"
    unknown = {"decisions": [{"id": "call_nope", "approve": True}]}
    assert_error(await client.post(url, json=unknown, headers=alice_auth), 404, "not_found")
    assert_error(await client.post(url, json={"decisions": []}, headers=alice_auth), 422, "validation_error")
    assert_error(await client.post(url, json={"decisions": [{"id": "x"}]}, headers=alice_auth), 422, "validation_error")
    for loose in ("yes", "true", 1, "1"):  # only a JSON boolean decides: these would otherwise carry out deletes
        said = {"decisions": [{"id": a["id"], "approve": loose} for a in paused["approvals"]]}
        assert_error(await client.post(url, json=said, headers=alice_auth), 422, "validation_error")
    first = paused["approvals"][0]["id"]
    both_ways = {"decisions": [{"id": first, "approve": True}, {"id": first, "approve": False}]}
    message = assert_error(await client.post(url, json=both_ways, headers=alice_auth), 422, "validation_error")
    assert "once" in message
    many = {"decisions": [{"id": f"call_{n}", "approve": False} for n in range(150)]}  # a bulk pause may be that big
    assert_error(await client.post(url, json=many, headers=alice_auth), 404, "not_found")
    assert len(await _titles(client, alice, alice_auth)) == 4
