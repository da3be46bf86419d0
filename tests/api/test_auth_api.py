"""Who may call what: tokens are verified on every resource, and one user never reaches another's data."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from service.config import Settings
from service.db import Database
from service.models import User
from tests.api.helpers import assert_error, seed_conversation

# One call per router and method, each with a body that would succeed with a valid token.
ENDPOINTS = [
    ("GET", "/todos", None),
    ("POST", "/todos", {"title": "x"}),
    ("GET", "/todos/{id}", None),
    ("PATCH", "/todos/{id}", {"completed": True}),
    ("DELETE", "/todos/{id}", None),
    ("GET", "/context", None),
    ("PUT", "/context", {"display_name": "x"}),
    ("GET", "/conversations", None),
    ("GET", "/conversations/{id}", None),
    ("PATCH", "/conversations/{id}", {"title": "x"}),
    ("DELETE", "/conversations/{id}", None),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ENDPOINTS]


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(user: uuid.UUID) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": str(user), "iat": now, "exp": now + timedelta(minutes=10)}


def _bad_tokens(settings: Settings, alice: uuid.UUID, make_token: Callable[..., str]) -> dict[str, str]:
    secret = settings.auth_jwt_secret
    assert secret
    exp = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
    return {
        "garbage": "not-a-jwt",
        "expired": make_token(alice, timedelta(minutes=-5)),
        "other-secret": jwt.encode(_claims(alice), "another-secret-that-is-long-enough-for-hs256!!", "HS256"),
        "alg-none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment({'sub': str(alice), 'exp': exp})}.",
        "no-exp": jwt.encode({"sub": str(alice)}, secret, "HS256"),
        "sub-not-uuid": jwt.encode({**_claims(alice), "sub": "alice"}, secret, "HS256"),
        "tampered": make_token(alice)[:-4] + "AAAA",
    }


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
async def test_every_route_needs_a_bearer_token(
    client: httpx.AsyncClient, alice: uuid.UUID, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = f"/api/{alice}" + path.format(id=uuid.uuid4())
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}):
        response = await client.request(method, url, json=body, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "kind", ["garbage", "expired", "other-secret", "alg-none", "no-exp", "sub-not-uuid", "tampered"]
)
async def test_invalid_tokens_are_401(
    client: httpx.AsyncClient,
    settings: Settings,
    alice: uuid.UUID,
    make_token: Callable[..., str],
    kind: str,
) -> None:
    token = _bad_tokens(settings, alice, make_token)[kind]
    for method, path, body in ENDPOINTS:
        url = f"/api/{alice}" + path.format(id=uuid.uuid4())
        response = await client.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
        message = assert_error(response, 401, "unauthorized")
        assert token not in message


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
async def test_a_token_only_opens_its_own_path(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    for user in (str(bob), "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        url = f"/api/{user}" + path.format(id=uuid.uuid4())
        assert_error(await client.request(method, url, json=body, headers=alice_auth), 403, "forbidden")


async def test_uppercase_path_user_is_the_same_user(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]
) -> None:
    response = await client.get(f"/api/{str(alice).upper()}/todos", headers=alice_auth)
    assert response.status_code == 200, response.text


async def test_alice_cannot_reach_bobs_todo(
    client: httpx.AsyncClient,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
) -> None:
    created = await client.post(
        f"/api/{bob}/todos", json={"title": "Bob's surgery", "description": "knee"}, headers=bob_auth
    )
    bobs = created.json()
    url = f"/api/{alice}/todos/{bobs['id']}"
    attempts = [
        await client.get(url, headers=alice_auth),
        await client.patch(url, json={"title": "mine now", "completed": True}, headers=alice_auth),
        await client.delete(url, headers=alice_auth),
    ]
    for response in attempts:
        assert_error(response, 404, "not_found")
    listed = await client.get(f"/api/{alice}/todos", headers=alice_auth)
    assert listed.json()["todos"] == []
    for response in [*attempts, listed]:
        for secret in (bobs["id"], "surgery", "knee", str(bob)):
            assert secret not in response.text
    assert (await client.get(f"/api/{bob}/todos/{bobs['id']}", headers=bob_auth)).json() == bobs


async def test_alice_cannot_reach_bobs_conversation(
    client: httpx.AsyncClient,
    database: Database,
    alice: uuid.UUID,
    alice_auth: dict[str, str],
    bob: uuid.UUID,
    bob_auth: dict[str, str],
) -> None:
    conversation = await seed_conversation(database, bob, title="Bob's private plans")
    url = f"/api/{alice}/conversations/{conversation}"
    attempts = [
        await client.get(url, headers=alice_auth),
        await client.patch(url, json={"title": "mine now"}, headers=alice_auth),
        await client.delete(url, headers=alice_auth),
    ]
    for response in attempts:
        assert_error(response, 404, "not_found")
    listed = await client.get(f"/api/{alice}/conversations", headers=alice_auth)
    assert listed.json() == {"conversations": [], "next_cursor": None}
    for response in [*attempts, listed]:
        for secret in (str(conversation), "private plans", "add milk", "Milk", str(bob)):
            assert secret not in response.text
    bobs = (await client.get(f"/api/{bob}/conversations/{conversation}", headers=bob_auth)).json()
    assert bobs["title"] == "Bob's private plans" and len(bobs["messages"]) == 4


@pytest.mark.parametrize(
    "email", ["a" * 310 + "@example.com", "alice\x00@example.com", "alice\ud800@example.com", "alice@example.com"]
)
async def test_an_email_claim_the_users_table_cannot_hold_is_left_out(
    client: httpx.AsyncClient, settings: Settings, database: Database, email: str
) -> None:
    user = uuid.uuid4()
    assert settings.auth_jwt_secret
    token = jwt.encode({**_claims(user), "email": email}, settings.auth_jwt_secret, "HS256")
    for _ in range(2):  # the first request creates the user; the second finds it
        response = await client.get(f"/api/{user}/todos", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    async with database.reader() as db:
        stored = await db.get(User, user)
    assert stored is not None and stored.email == (email if email == "alice@example.com" else None)
