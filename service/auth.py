"""JWT verification (PyJWT): HS256 with a shared secret, or asymmetric keys from a cached JWKS.

The algorithm list is pinned per mode, so `alg: none` and HS/RS confusion are rejected by PyJWT itself.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from service.config import Settings
from service.errors import Unauthorized

HS_ALGORITHMS = ["HS256"]
JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str | None


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.jwt_secret()
        # PyJWKClient caches keys and refetches on an unknown `kid`; its fetch is blocking, so it runs
        # in a worker thread.
        self._jwks = (
            jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=300, timeout=5)
            if settings.auth_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key, algorithms = signing_key.key, JWKS_ALGORITHMS
            else:
                key, algorithms = self._secret, HS_ALGORITHMS
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.auth_audience,
                issuer=self._settings.auth_issuer,
                leeway=self._settings.auth_leeway_s,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._settings.auth_audience is not None,
                },
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized("invalid or expired token") from exc
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError:
            raise Unauthorized("token subject must be a UUID") from None
        email = claims.get("email")
        return Principal(user_id=user_id, email=email if isinstance(email, str) else None)


def mint_token(settings: Settings, user_id: uuid.UUID, ttl: timedelta) -> str:
    """A dev token signed with the configured (or dev) HS256 secret."""
    secret = settings.jwt_secret()
    if not secret:
        raise SystemExit("minting tokens needs AUTH_JWT_SECRET (tokens from a JWKS issuer come from it)")
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": str(user_id), "iat": now, "nbf": now, "exp": now + ttl}
    if settings.auth_audience:
        claims["aud"] = settings.auth_audience
    if settings.auth_issuer:
        claims["iss"] = settings.auth_issuer
    return jwt.encode(claims, secret, algorithm="HS256")
