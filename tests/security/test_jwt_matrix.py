"""The JWT attack matrix: every forged, stale or misdirected token is refused, the same way, with nothing leaked.

Each case is one known attack on JWT verification (`alg: none`, HS/RS key confusion, stripped or
transplanted signatures, claims outside their validity window, audience and issuer confusion, subjects
that are not users) sent to every `/api` route. A refusal must be a 401 (or 403 for a valid token on
someone else's path) in the one error shape, and every cryptographic or claims failure must answer the
very same body, so a client cannot tell a wrong key from an expired token (no oracle) and no PyJWT text
reaches it. Positive controls prove each app configuration accepts a good token, so a 401 here is never
the setup's fault.

JWKS mode runs against a real identity-provider double on loopback (tests/security/jwks.py): RS256, ES256
and EdDSA keys, rotation (a new `kid` is fetched on its first token), an unknown `kid` after the refetch,
and an unreachable or broken provider, which must fail closed and recover on its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.auth import JWKS_REFETCH_COOLDOWN_S
from tests.security.conftest import TEST_SECRET, AppClient
from tests.security.helpers import api_routes, assert_refused, fill_path
from tests.security.jwks import JwksServer, SigningKey, new_key, serve_jwks

AUDIENCE = "todo-api"
ISSUER = "https://id.example.test/"
OTHER_SECRET = b"another-secret-that-is-long-enough-0123456789"
DROP = object()  # a claim value meaning "leave the claim out"

# Generated once: RSA key generation is the slow part of this module.
RSA = new_key("RS256", "rsa-1")
EC = new_key("ES256", "ec-1")
ED = new_key("EdDSA", "ed-1")
ATTACKER = new_key("RS256", "attacker-1")
PUBLISHED = (RSA, EC, ED)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segment(value: Any) -> str:
    return _b64(json.dumps(value).encode())


def raw_token(header: Any, claims: Any, sign: Callable[[bytes], bytes] | None = None) -> str:
    """A token put together by hand, so it can say what no well-behaved library would let it say."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = _b64(sign(signing_input.encode())) if sign else ""
    return f"{signing_input}.{signature}"


def hmac_with(secret: bytes) -> Callable[[bytes], bytes]:
    """HS256 with any bytes as the key, including the ones PyJWT refuses (empty, a public key PEM)."""
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """`token` with its payload swapped for `claims`, header and signature kept: a tampered token."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"


@dataclass(frozen=True)
class Forge:
    """Makes tokens for `user`: the valid one, and each attack's variation of it.

    `secret` signs HS256 tokens (HS mode); `key` signs asymmetric ones (JWKS mode). `audience` and
    `issuer` are what the app is configured to require, so valid tokens carry them.
    """

    user: uuid.UUID
    other: uuid.UUID
    secret: str | None = None
    key: SigningKey = RSA
    audience: str | None = None
    issuer: str | None = None

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": str(self.user), "iat": now, "nbf": now, "exp": now + 600}
        if self.audience:
            claims["aud"] = self.audience
        if self.issuer:
            claims["iss"] = self.issuer
        for name, value in changes.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    @property
    def hmac(self) -> Callable[[bytes], bytes]:
        """HS256 with the service's own secret (HS mode)."""
        assert self.secret is not None
        return hmac_with(self.secret.encode())

    def signed(self, **changes: Any) -> str:
        """Signed the way this mode's legitimate issuer signs: the shared secret, or the provider's key."""
        if self.secret is None:
            return self.key.sign(self.claims(**changes))
        return raw_token({"alg": "HS256", "typ": "JWT"}, self.claims(**changes), self.hmac)


Attack = Callable[[Forge], str]

# Wrong in the claims: each must fail in both modes, whoever signed the token.
CLAIM_ATTACKS: dict[str, Attack] = {
    "expired": lambda f: f.signed(exp=int(time.time()) - 600),
    "exp-missing": lambda f: f.signed(exp=DROP),
    "exp-not-a-number": lambda f: f.signed(exp="tomorrow"),
    "nbf-in-the-future": lambda f: f.signed(nbf=int(time.time()) + 600),
    "iat-in-the-future": lambda f: f.signed(iat=int(time.time()) + 600),
}

# Validly signed, but the subject is not a user id (in its one canonical spelling).
SUBJECT_ATTACKS: dict[str, Attack] = {
    "sub-missing": lambda f: f.signed(sub=DROP),
    "sub-not-a-uuid": lambda f: f.signed(sub="alice"),
    "sub-empty": lambda f: f.signed(sub=""),
    "sub-a-number": lambda f: f.signed(sub=42),
    "sub-urn-uuid": lambda f: f.signed(sub=f"urn:uuid:{f.user}"),
    "sub-braced-uuid": lambda f: f.signed(sub=f"{{{f.user}}}"),
    "sub-undashed-uuid": lambda f: f.signed(sub=f.user.hex),
}

# Wrong in the structure or the signature, HS256 mode.
HS_ATTACKS: dict[str, Attack] = {
    "garbage": lambda f: "not-a-jwt",
    "two-segments": lambda f: f.signed().rsplit(".", 1)[0],
    "four-segments": lambda f: f.signed() + ".AAAA",
    "not-base64": lambda f: "!!!.???.***",
    "header-not-json": lambda f: _b64(b"{oops") + "." + f.signed().split(".", 1)[1],
    "payload-not-an-object": lambda f: raw_token({"alg": "HS256"}, [f.claims()], f.hmac),
    "alg-none": lambda f: raw_token({"alg": "none", "typ": "JWT"}, f.claims()),
    "alg-None-capitalised": lambda f: raw_token({"alg": "None", "typ": "JWT"}, f.claims()),
    "alg-none-keeping-a-signature": lambda f: raw_token({"alg": "none"}, f.claims(), f.hmac),
    "alg-missing": lambda f: raw_token({"typ": "JWT"}, f.claims(), f.hmac),
    "alg-hs512": lambda f: raw_token(
        {"alg": "HS512"}, f.claims(), lambda d: hmac.new((f.secret or "").encode(), d, hashlib.sha512).digest()
    ),
    "rs256-when-configured-for-hs256": lambda f: RSA.sign(f.claims()),
    "hs256-keyed-with-a-public-key-pem": lambda f: raw_token({"alg": "HS256"}, f.claims(), hmac_with(RSA.public_pem)),
    "wrong-secret": lambda f: raw_token({"alg": "HS256"}, f.claims(), hmac_with(OTHER_SECRET)),
    "empty-secret": lambda f: raw_token({"alg": "HS256"}, f.claims(), hmac_with(b"")),
    "signature-stripped": lambda f: f.signed().rsplit(".", 1)[0] + ".",
    "signature-of-another-token": lambda f: (
        f.signed().rsplit(".", 1)[0] + "." + f.signed(sub=str(f.other)).rsplit(".", 1)[1]
    ),
    "payload-tampered-to-this-user": lambda f: with_payload(f.signed(sub=str(f.other)), f.claims()),
    "exp-extended-keeping-the-signature": lambda f: with_payload(
        f.signed(exp=int(time.time()) - 600), f.claims(exp=int(time.time()) + 3600)
    ),
    "crit-header-unknown-extension": lambda f: raw_token(
        {"alg": "HS256", "crit": ["x-trust-me"], "x-trust-me": True}, f.claims(), f.hmac
    ),
    **CLAIM_ATTACKS,
}

# Audience and issuer confusion: refused once the app is configured to require them.
AUD_ISS_ATTACKS: dict[str, Attack] = {
    "aud-missing": lambda f: f.signed(aud=DROP),
    "aud-wrong": lambda f: f.signed(aud="another-api"),
    "aud-list-without-ours": lambda f: f.signed(aud=["another-api", "billing"]),
    "aud-prefix-of-ours": lambda f: f.signed(aud=AUDIENCE[:-1]),
    "iss-missing": lambda f: f.signed(iss=DROP),
    "iss-wrong": lambda f: f.signed(iss="https://evil.example.test/"),
    "iss-with-a-suffix": lambda f: f.signed(iss=ISSUER + "evil"),
}

# Wrong in the structure, the key or the algorithm, JWKS mode.
JWKS_ATTACKS: dict[str, Attack] = {
    "alg-none-with-a-known-kid": lambda f: raw_token({"alg": "none", "kid": RSA.kid}, f.claims()),
    "hs256-keyed-with-the-jwks-public-pem": lambda f: raw_token(
        {"alg": "HS256", "kid": RSA.kid}, f.claims(), hmac_with(RSA.public_pem)
    ),
    "hs256-keyed-with-the-jwk-json": lambda f: raw_token(
        {"alg": "HS256", "kid": RSA.kid}, f.claims(), hmac_with(json.dumps(RSA.jwk).encode())
    ),
    "attacker-key-under-a-known-kid": lambda f: ATTACKER.sign(f.claims(), kid=RSA.kid),
    "attacker-key-under-its-own-kid": lambda f: ATTACKER.sign(f.claims()),
    "attacker-key-embedded-as-jwk-header": lambda f: ATTACKER.sign(f.claims(), jwk=ATTACKER.jwk),
    "attacker-jku-header": lambda f: ATTACKER.sign(f.claims(), jku="http://127.0.0.1:9/jwks.json"),
    "rs256-under-an-ec-kid": lambda f: ATTACKER.sign(f.claims(), kid=EC.kid),
    "es256-under-an-rsa-kid": lambda f: EC.sign(f.claims(), kid=RSA.kid),
    "eddsa-under-an-ec-kid": lambda f: ED.sign(f.claims(), kid=EC.kid),
    "kid-missing": lambda f: raw_token({"alg": "RS256"}, f.claims(), RSA.raw_signer),
    "kid-not-a-string": lambda f: raw_token({"alg": "RS256", "kid": [RSA.kid]}, f.claims(), RSA.raw_signer),
    "kid-path-traversal": lambda f: RSA.sign(f.claims(), kid="../../../../etc/passwd"),
    "signature-stripped": lambda f: f.signed().rsplit(".", 1)[0] + ".",
    "payload-tampered-to-this-user": lambda f: with_payload(f.signed(sub=str(f.other)), f.claims()),
    **CLAIM_ATTACKS,
}


def _ids(cases: dict[str, Attack]) -> list[str]:
    return list(cases)


async def probe_all_routes(
    client: httpx.AsyncClient, app: FastAPI, path_user: uuid.UUID, headers: dict[str, str]
) -> list[httpx.Response]:
    """One request per `/api` route, so no route can verify tokens differently from the others."""
    return [
        await client.request(method, fill_path(template, path_user), headers=headers)
        for method, template in api_routes(app)
    ]


async def assert_all_refused(
    client: httpx.AsyncClient, app: FastAPI, user: uuid.UUID, token: str, reference: dict[str, Any] | None
) -> None:
    """401 on every route; with a `reference` body, exactly that body (nothing tells failures apart)."""
    for response in await probe_all_routes(client, app, user, {"Authorization": f"Bearer {token}"}):
        body = assert_refused(response, 401, "unauthorized", secrets=[token, token.split(".")[0]])
        assert response.headers["WWW-Authenticate"] == "Bearer", response.headers
        if reference is not None:
            assert body == reference, f"{response.request.method} {response.request.url.path}: {body}"


async def reference_refusal(client: httpx.AsyncClient, user: uuid.UUID) -> dict[str, Any]:
    """What a token that is plain garbage gets: every verification failure must look exactly like it."""
    response = await client.get(f"/api/{user}/todos", headers={"Authorization": "Bearer not-a-jwt"})
    return assert_refused(response, 401, "unauthorized")


# -- HS256 mode -----------------------------------------------------------------------------------------


@pytest.fixture
def forge(alice: uuid.UUID, bob: uuid.UUID) -> Forge:
    return Forge(user=alice, other=bob, secret=TEST_SECRET)


async def test_a_valid_hs256_token_opens_every_route(client: httpx.AsyncClient, app: FastAPI, forge: Forge) -> None:
    """The positive control: the matrix's 401s are the tokens' doing, not a broken set-up."""
    for response in await probe_all_routes(client, app, forge.user, {"Authorization": f"Bearer {forge.signed()}"}):
        assert response.status_code not in (401, 403), response.text


@pytest.mark.parametrize("attack", _ids(HS_ATTACKS))
async def test_hs256_attacks_are_refused_alike(
    client: httpx.AsyncClient, app: FastAPI, forge: Forge, attack: str
) -> None:
    token = HS_ATTACKS[attack](forge)
    await assert_all_refused(client, app, forge.user, token, await reference_refusal(client, forge.user))


@pytest.mark.parametrize("attack", _ids(SUBJECT_ATTACKS))
async def test_a_subject_that_is_not_a_user_id_is_refused(
    client: httpx.AsyncClient, app: FastAPI, forge: Forge, attack: str
) -> None:
    """Validly signed, so the message may say what is wrong with the subject; still a 401 everywhere."""
    await assert_all_refused(client, app, forge.user, SUBJECT_ATTACKS[attack](forge), reference=None)


async def test_a_token_opens_only_its_own_users_path(
    client: httpx.AsyncClient, app: FastAPI, forge: Forge, alice: uuid.UUID, bob: uuid.UUID
) -> None:
    """Alice's perfectly valid token on Bob's path: 403 on every route, nothing of Bob's in the answer."""
    for response in await probe_all_routes(client, app, bob, {"Authorization": f"Bearer {forge.signed()}"}):
        assert_refused(response, 403, "forbidden", secrets=[str(bob)])


# `{token}` is a valid token: only the header's shape is wrong.
MALFORMED_AUTHORIZATION: dict[str, str | None] = {
    "absent": None,
    "empty": "",
    "scheme-only": "Bearer",
    "empty-bearer": "Bearer ",
    "blank-bearer": "Bearer  ",
    "basic": "Basic YWxpY2U6c2VjcmV0",
    "token-scheme": "Token {token}",
    "no-scheme": "{token}",
    "trailing-junk": "Bearer {token} x",
}


@pytest.mark.parametrize("shape", list(MALFORMED_AUTHORIZATION))
async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, app: FastAPI, forge: Forge, shape: str
) -> None:
    authorization = MALFORMED_AUTHORIZATION[shape]
    headers = {} if authorization is None else {"Authorization": authorization.format(token=forge.signed())}
    for response in await probe_all_routes(client, app, forge.user, headers):
        assert_refused(response, 401, "unauthorized", secrets=[forge.signed()])
        assert response.headers["WWW-Authenticate"] == "Bearer"


# -- HS256 with an audience and an issuer required ------------------------------------------------------


@pytest.fixture
async def aud_iss(app_client: AppClient) -> httpx.AsyncClient:
    return await app_client(auth_audience=AUDIENCE, auth_issuer=ISSUER)


@pytest.fixture
def aud_iss_forge(forge: Forge) -> Forge:
    return Forge(user=forge.user, other=forge.other, secret=forge.secret, audience=AUDIENCE, issuer=ISSUER)


@pytest.mark.parametrize("changes", [{}, {"aud": [AUDIENCE, "billing"]}], ids=["exact", "aud-list-with-ours"])
async def test_tokens_for_the_configured_audience_and_issuer_pass(
    aud_iss: httpx.AsyncClient, aud_iss_forge: Forge, changes: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {aud_iss_forge.signed(**changes)}"}
    response = await aud_iss.get(f"/api/{aud_iss_forge.user}/todos", headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("attack", _ids(AUD_ISS_ATTACKS))
async def test_audience_and_issuer_confusion_is_refused(
    aud_iss: httpx.AsyncClient, app: FastAPI, aud_iss_forge: Forge, attack: str
) -> None:
    token = AUD_ISS_ATTACKS[attack](aud_iss_forge)
    reference = await reference_refusal(aud_iss, aud_iss_forge.user)
    await assert_all_refused(aud_iss, app, aud_iss_forge.user, token, reference)


# -- JWKS mode ----------------------------------------------------------------------------------------


@pytest.fixture
async def jwks() -> AsyncIterator[JwksServer]:
    async with serve_jwks(JwksServer(keys=list(PUBLISHED))) as server:
        yield server


@pytest.fixture
async def jwks_client(app_client: AppClient, jwks: JwksServer) -> httpx.AsyncClient:
    return await app_client(auth_jwt_secret=None, auth_jwks_url=jwks.url)


async def get_todos(client: httpx.AsyncClient, user: uuid.UUID, token: str) -> httpx.Response:
    return await client.get(f"/api/{user}/todos", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("key", PUBLISHED, ids=[key.alg for key in PUBLISHED])
async def test_jwks_tokens_of_every_supported_algorithm_pass(
    jwks_client: httpx.AsyncClient, forge: Forge, key: SigningKey
) -> None:
    response = await get_todos(jwks_client, forge.user, key.sign(forge.claims()))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("attack", _ids(JWKS_ATTACKS))
async def test_jwks_attacks_are_refused_alike(
    jwks_client: httpx.AsyncClient, app: FastAPI, forge: Forge, attack: str
) -> None:
    jwks_forge = Forge(user=forge.user, other=forge.other)
    token = JWKS_ATTACKS[attack](jwks_forge)
    await assert_all_refused(jwks_client, app, forge.user, token, await reference_refusal(jwks_client, forge.user))


@pytest.mark.parametrize("attack", _ids(SUBJECT_ATTACKS))
async def test_jwks_subject_that_is_not_a_user_id_is_refused(
    jwks_client: httpx.AsyncClient, app: FastAPI, forge: Forge, attack: str
) -> None:
    token = SUBJECT_ATTACKS[attack](Forge(user=forge.user, other=forge.other))
    await assert_all_refused(jwks_client, app, forge.user, token, reference=None)


async def test_a_rotated_key_is_fetched_on_its_first_token(
    jwks_client: httpx.AsyncClient, jwks: JwksServer, forge: Forge
) -> None:
    """The provider publishes a new key and signs with it: the first such token makes the service refetch."""
    assert (await get_todos(jwks_client, forge.user, RSA.sign(forge.claims()))).status_code == 200
    assert jwks.fetches == 1
    rotated = new_key("ES256", "ec-2")
    jwks.keys.append(rotated)
    await asyncio.sleep(JWKS_REFETCH_COOLDOWN_S)  # refetches are rate-limited (see below)
    response = await get_todos(jwks_client, forge.user, rotated.sign(forge.claims()))
    assert response.status_code == 200, response.text
    assert jwks.fetches == 2
    for key in (rotated, RSA):  # both now served from the cache
        assert (await get_todos(jwks_client, forge.user, key.sign(forge.claims()))).status_code == 200
    assert jwks.fetches == 2


async def test_an_unknown_kid_is_refused_after_the_refetch_and_cannot_flood_the_provider(
    jwks_client: httpx.AsyncClient, jwks: JwksServer, forge: Forge
) -> None:
    assert (await get_todos(jwks_client, forge.user, RSA.sign(forge.claims()))).status_code == 200
    await asyncio.sleep(JWKS_REFETCH_COOLDOWN_S)
    reference = await reference_refusal(jwks_client, forge.user)
    response = await get_todos(jwks_client, forge.user, ATTACKER.sign(forge.claims(), kid="never-published"))
    assert assert_refused(response, 401, "unauthorized") == reference
    assert jwks.fetches == 2  # it did look again before refusing
    started = time.monotonic()
    for n in range(20):  # a burst of made-up kids: at most one fetch per cooldown, however many tokens
        response = await get_todos(jwks_client, forge.user, ATTACKER.sign(forge.claims(), kid=f"made-up-{n}"))
        assert assert_refused(response, 401, "unauthorized") == reference
    assert jwks.fetches - 2 <= (time.monotonic() - started) // JWKS_REFETCH_COOLDOWN_S


async def test_an_unreachable_provider_fails_closed_then_recovers(
    jwks_client: httpx.AsyncClient, jwks: JwksServer, forge: Forge
) -> None:
    await jwks.stop()
    token = RSA.sign(forge.claims())
    reference = await reference_refusal(jwks_client, forge.user)
    for _ in range(2):
        assert assert_refused(await get_todos(jwks_client, forge.user, token), 401, "unauthorized") == reference
    await jwks.start()
    await asyncio.sleep(JWKS_REFETCH_COOLDOWN_S)  # a failed fetch starts the cool-down too (issue 13 item 2)
    response = await get_todos(jwks_client, forge.user, token)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("answer", ["500", "not-json", "empty"])
async def test_a_broken_provider_answer_fails_closed_then_recovers(
    jwks_client: httpx.AsyncClient, jwks: JwksServer, forge: Forge, answer: str
) -> None:
    jwks.answer = answer
    token = RSA.sign(forge.claims())
    reference = await reference_refusal(jwks_client, forge.user)
    assert assert_refused(await get_todos(jwks_client, forge.user, token), 401, "unauthorized") == reference
    jwks.answer = "keys"
    await asyncio.sleep(JWKS_REFETCH_COOLDOWN_S)  # a failed fetch starts the cool-down too (issue 13 item 2)
    response = await get_todos(jwks_client, forge.user, token)
    assert response.status_code == 200, response.text
