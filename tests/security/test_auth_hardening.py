"""Issue 13: a hanging JWKS endpoint must not queue every sign-in (item 2); a string `exp` is no expiry,
and production refuses a short HS256 secret (smaller items)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from service.config import Settings
from tests.api.helpers import assert_error
from tests.security.jwks import JwksServer, new_key, serve_jwks
from tests.security.test_jwt_matrix import RSA, Forge, get_todos

ATTACKER = new_key("RS256", "attacker")


@pytest.fixture
async def jwks() -> AsyncIterator[JwksServer]:
    async with serve_jwks(JwksServer(keys=[RSA])) as server:
        yield server


async def test_unknown_kids_while_the_jwks_endpoint_hangs_do_not_queue_sign_ins(
    app_client, jwks: JwksServer, alice: uuid.UUID
) -> None:
    """Before: each made-up kid refetched in turn under one lock (5 s, 10 s, ... 30 s) and a valid token
    waited behind them all. Now a failed fetch starts a cool-down, unknown kids share one fetch, and a
    known kid never waits for a fetch."""
    client: httpx.AsyncClient = await app_client(auth_jwt_secret=None, auth_jwks_url=jwks.url, auth_jwks_timeout_s=5.0)
    forge = Forge(user=alice, other=uuid.uuid4())
    valid = RSA.sign(forge.claims())
    assert (await get_todos(client, alice, valid)).status_code == 200  # the key set is cached
    await asyncio.sleep(1.1)  # past the refetch cool-down
    jwks.answer = "hang"
    fetches = jwks.fetches

    forged = [ATTACKER.sign(forge.claims(), kid=f"made-up-{n}") for n in range(6)]
    attacks = [asyncio.create_task(get_todos(client, alice, token)) for token in forged]
    await asyncio.sleep(0.1)  # the first unknown kid's fetch is now hanging
    signed_in = await get_todos(client, alice, valid)
    # The valid token was answered while the forged ones still wait on the hanging fetch (5 s timeout).
    assert signed_in.status_code == 200
    assert not all(attack.done() for attack in attacks)
    refused = await asyncio.gather(*attacks)
    for response in refused:
        assert_error(response, 401, "unauthorized")
    assert jwks.fetches - fetches < len(forged)  # one shared fetch, not one per made-up kid
    assert jwks.fetches - fetches == 1
    # The failed fetch started a cool-down: more made-up kids are refused at once, without a fetch.
    quick = time.monotonic()
    assert_error(await get_todos(client, alice, ATTACKER.sign(forge.claims(), kid="again")), 401, "unauthorized")
    assert time.monotonic() - quick < 0.5
    assert jwks.fetches - fetches == 1


@pytest.mark.parametrize("exp", ["9999999999", str(int(time.time()) + 600), "1e10"])
async def test_a_string_exp_is_refused(client: httpx.AsyncClient, alice: uuid.UUID, exp: str) -> None:
    """Before: PyJWT read `"exp": "9999999999"` as a number, so a string expiry passed."""
    from tests.api.conftest import TEST_SECRET

    token = Forge(user=alice, other=uuid.uuid4(), secret=TEST_SECRET).signed(exp=exp)
    assert_error(await get_todos(client, alice, token), 401, "unauthorized")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_string_nbf_and_iat_are_refused(client: httpx.AsyncClient, alice: uuid.UUID, claim: str) -> None:
    from tests.api.conftest import TEST_SECRET

    token = Forge(user=alice, other=uuid.uuid4(), secret=TEST_SECRET).signed(**{claim: str(int(time.time()))})
    assert_error(await get_todos(client, alice, token), 401, "unauthorized")


def test_production_refuses_a_short_hs256_secret() -> None:
    """Before: ENV=production started with a 1-byte secret."""
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET"):
        Settings(_env_file=None, env="production", auth_jwt_secret="x")
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET"):
        Settings(_env_file=None, env="production", auth_jwt_secret="é" * 15)  # 30 bytes
    Settings(_env_file=None, env="production", auth_jwt_secret="s" * 32)
