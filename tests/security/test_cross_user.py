"""The cross-user matrix: Bob's valid token against every `/api` route, aimed at Alice's data.

For each route, read from the app itself so a new endpoint cannot be forgotten: Bob's token on Alice's
path is 403; Bob's token on his own path with Alice's todo and conversation ids is 404 (routes without
ids answer with Bob's own, empty, data). No response may carry one byte of Alice's: her ids, titles,
description, conversation title, message text, context. And nothing of hers changes: her state is read
back, through her own token, before and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.security.helpers import api_routes, assert_absent, assert_refused, fill_path


@dataclass(frozen=True)
class Victim:
    """Alice, with data in every resource, and every string of it that must never reach Bob."""

    user: uuid.UUID
    auth: dict[str, str]
    todo_ids: list[str]
    conversation_ids: list[str]
    secrets: list[str]
    turn_message_ids: tuple[str, ...] = ()

    @property
    def ids(self) -> dict[str, str]:
        return {"todo_id": self.todo_ids[0], "conversation_id": self.conversation_ids[0]}


@dataclass(frozen=True)
class Attack:
    """How one route is aimed at Alice: the body Bob sends, and what his own path must answer."""

    own_path_status: int  # Bob's token, Bob's path, Alice's ids: 404 (not found *or not yours*) or his own data
    body: Callable[[Victim], dict[str, Any]] | None = None


def _chat(victim: Victim) -> dict[str, Any]:
    return {"message": "show my todos and mark them all done", "conversation_id": victim.conversation_ids[0]}


def _decisions() -> dict[str, Any]:
    return {"decisions": [{"id": "call_1", "approve": True}]}


API = "/api/{user_id}"
ATTACKS: dict[tuple[str, str], Attack] = {
    ("POST", f"{API}/chat"): Attack(404, _chat),
    ("POST", f"{API}/chat/stream"): Attack(404, _chat),
    ("GET", f"{API}/todos"): Attack(200),
    ("POST", f"{API}/todos"): Attack(201, lambda v: {"title": "Bob's own todo"}),
    ("GET", f"{API}/todos/{{todo_id}}"): Attack(404),
    ("PATCH", f"{API}/todos/{{todo_id}}"): Attack(404, lambda v: {"title": "mine now", "completed": True}),
    ("DELETE", f"{API}/todos/{{todo_id}}"): Attack(404),
    ("GET", f"{API}/context"): Attack(200),
    ("PUT", f"{API}/context"): Attack(200, lambda v: {"display_name": "Bob"}),
    ("GET", f"{API}/conversations"): Attack(200),
    ("GET", f"{API}/conversations/{{conversation_id}}"): Attack(404),
    ("PATCH", f"{API}/conversations/{{conversation_id}}"): Attack(404, lambda v: {"title": "mine now"}),
    ("DELETE", f"{API}/conversations/{{conversation_id}}"): Attack(404),
    ("POST", f"{API}/conversations/{{conversation_id}}/approvals"): Attack(404, lambda v: _decisions()),
    ("POST", f"{API}/conversations/{{conversation_id}}/approvals/stream"): Attack(404, lambda v: _decisions()),
    ("GET", f"{API}/changes"): Attack(200),
    ("POST", f"{API}/changes/revert"): Attack(404, lambda v: {"message_id": v.turn_message_ids[0]}),
}

# Distinctive, so a substring match means a leak and never a coincidence.
ALICE_TODOS = [
    {"title": "Renew the Zanzibar passport", "description": "passport number QX-40417-ZB", "due_date": "2027-01-02"},
    {"title": "Buy quokka food"},
]
ALICE_MESSAGE = "add phone the vexillology society"
ALICE_CONTEXT = {"display_name": "Zelda Quartermaine", "timezone": "Pacific/Chatham", "preferences": {"pet": "axolotl"}}


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture
async def victim(client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]) -> Victim:
    """Alice's data, made through the API as she would: todos, context, and two chat conversations."""
    base = f"/api/{alice}"
    todos = [await _ok(await client.post(f"{base}/todos", json=t, headers=alice_auth), 201) for t in ALICE_TODOS]
    await _ok(await client.patch(f"{base}/todos/{todos[1]['id']}", json={"completed": True}, headers=alice_auth))
    await _ok(await client.put(f"{base}/context", json=ALICE_CONTEXT, headers=alice_auth))
    turns = [
        await _ok(await client.post(f"{base}/chat", json={"message": message}, headers=alice_auth))
        for message in (ALICE_MESSAGE, "remind me to feed the axolotl")
    ]
    conversation_ids = [turn["conversation_id"] for turn in turns]
    await _ok(
        await client.patch(
            f"{base}/conversations/{conversation_ids[0]}", json={"title": "Zeta flag plans"}, headers=alice_auth
        )
    )
    todo_ids = [t["id"] for t in (await _ok(await client.get(f"{base}/todos", headers=alice_auth)))["todos"]]
    stored = [await _ok(await client.get(f"{base}/conversations/{c}", headers=alice_auth)) for c in conversation_ids]
    message_ids = [m["id"] for detail in stored for m in detail["messages"]]
    secrets = [
        str(alice),
        *todo_ids,
        *conversation_ids,
        *message_ids,
        *(turn["message_id"] for turn in turns),
        "Zanzibar",
        "QX-40417",
        "quokka",
        "vexillology",
        "Zeta flag",
        "axolotl",
        "Quartermaine",
        "Chatham",
    ]
    assert len(todo_ids) == 4, todo_ids  # the two above and one added by each chat turn
    return Victim(alice, alice_auth, todo_ids, conversation_ids, secrets, tuple(t["message_id"] for t in turns))


async def alice_state(client: httpx.AsyncClient, victim: Victim) -> dict[str, Any]:
    """Everything Alice can see of her own, read with her own token."""
    base = f"/api/{victim.user}"
    return {
        "todos": await _ok(await client.get(f"{base}/todos", headers=victim.auth)),
        "context": await _ok(await client.get(f"{base}/context", headers=victim.auth)),
        "conversations": [
            await _ok(await client.get(f"{base}/conversations/{c}", headers=victim.auth))
            for c in victim.conversation_ids
        ],
    }


def test_every_api_route_is_in_the_matrix(app: FastAPI) -> None:
    """A new `/api` route fails here until it is given a row above (and so is attacked like the others)."""
    assert set(api_routes(app)) == set(ATTACKS)


@pytest.mark.parametrize(("method", "template"), list(ATTACKS), ids=[f"{m} {p.removeprefix(API)}" for m, p in ATTACKS])
async def test_bob_never_reaches_alices_data(
    client: httpx.AsyncClient,
    victim: Victim,
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    method: str,
    template: str,
) -> None:
    attack = ATTACKS[(method, template)]
    body = attack.body(victim) if attack.body else None
    before = await alice_state(client, victim)

    on_alices_path = await client.request(
        method, fill_path(template, victim.user, **victim.ids), json=body, headers=bob_auth
    )
    assert_refused(on_alices_path, 403, "forbidden", victim.secrets)

    on_his_path = await client.request(method, fill_path(template, bob, **victim.ids), json=body, headers=bob_auth)
    if attack.own_path_status >= 400:
        assert_refused(on_his_path, attack.own_path_status, "not_found", victim.secrets)
    else:
        assert on_his_path.status_code == attack.own_path_status, on_his_path.text
        assert_absent(on_his_path, victim.secrets)

    assert await alice_state(client, victim) == before


async def test_bobs_listings_never_include_alices_rows(
    client: httpx.AsyncClient, victim: Victim, bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    """Every filter and page of Bob's lists, Alice's paging cursor included, shows nothing of hers."""
    base = f"/api/{bob}"
    alices_cursor = (await _ok(await client.get(f"/api/{victim.user}/conversations?limit=1", headers=victim.auth)))[
        "next_cursor"
    ]
    assert alices_cursor
    urls = [
        f"{base}/todos?completed=true",
        f"{base}/todos?completed=false",
        f"{base}/todos?limit=100&offset=0",
        f"{base}/todos?offset=1",
        f"{base}/conversations?limit=100",
        f"{base}/conversations?cursor={alices_cursor}",
    ]
    for url in urls:
        response = await client.get(url, headers=bob_auth)
        assert response.status_code in (200, 400), response.text
        assert_absent(response, victim.secrets)


async def test_bob_cannot_replay_alices_idempotency_key(
    client: httpx.AsyncClient, victim: Victim, bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    """Keys are per user: Bob guessing (or seeing) Alice's `Idempotency-Key` gets a turn of his own."""
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    body = {"message": "show my todos"}
    alices = await client.post(f"/api/{victim.user}/chat", json=body, headers={**victim.auth, **key})
    assert alices.status_code == 200, alices.text
    bobs = await client.post(f"/api/{bob}/chat", json=body, headers={**bob_auth, **key})
    assert bobs.status_code == 200, bobs.text
    assert bobs.json()["conversation_id"] != alices.json()["conversation_id"]
    assert_absent(bobs, victim.secrets)
