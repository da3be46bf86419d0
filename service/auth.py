"""JWT verification (PyJWT): HS256 with a shared secret, or asymmetric keys from a cached JWKS.

The algorithm list is pinned per mode, so `alg: none` and HS/RS confusion are rejected by PyJWT itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from service.config import Settings
from service.errors import Unauthorized
from service.jwks import JwksCache
from service.models import EMAIL_MAX

HS_ALGORITHMS = ["HS256"]
JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
JWKS_CACHE_S = 300
# Long enough to shield the provider from tokens with made-up kids, short enough that a newly
# rotated key is fetched on (almost) its first token.
JWKS_REFETCH_COOLDOWN_S = 1.0
# Registered time claims must be JSON numbers (RFC 7519 NumericDate); PyJWT also reads "9999999999".
TIME_CLAIMS = ("exp", "nbf", "iat")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str | None


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.jwt_secret()
        # Cached for JWKS_CACHE_S; an unknown `kid` refetches at most once per JWKS_REFETCH_COOLDOWN_S, a
        # failed fetch included, and never makes a token with a known kid wait (service.jwks). No per-kid
        # cache beyond the set: a key the provider withdrew goes with the next fetch.
        self._jwks = (
            JwksCache(
                settings.auth_jwks_url,
                lifespan_s=JWKS_CACHE_S,
                cooldown_s=JWKS_REFETCH_COOLDOWN_S,
                timeout_s=settings.auth_jwks_timeout_s,
            )
            if settings.auth_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        key: jwt.PyJWK | str
        try:
            if self._jwks is not None:
                # The PyJWK itself, not its bare key: PyJWT then requires the token's `alg` to be the key's
                # own, so a header cannot pair an RSA algorithm with an EC key (which crashed the verifier).
                key = await self._jwks.signing_key(token)
                algorithms = JWKS_ALGORITHMS
            else:
                key, algorithms = self._secret or "", HS_ALGORITHMS
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
            if any(not _is_number(claims[name]) for name in TIME_CLAIMS if name in claims):
                raise jwt.InvalidTokenError("a time claim is not a number")
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized("invalid or expired token") from exc
        user_id = _user_id(claims["sub"])
        if user_id is None:
            raise Unauthorized("token subject must be a UUID")
        email = claims.get("email")
        # Only what the column can hold: a longer, NUL-bearing or not encodable claim (a lone surrogate, which
        # JSON allows) would fail every request of this user.
        usable = isinstance(email, str) and len(email) <= EMAIL_MAX and "\x00" not in email and _encodable(email)
        return Principal(user_id=user_id, email=email if usable else None)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _user_id(subject: object) -> uuid.UUID | None:
    """The subject as a user id, in its one canonical spelling only.

    `uuid.UUID` also reads `urn:uuid:…`, `{…}` and undashed hex; accepting those would let one user have
    several subjects (and several cache and audit identities), so anything but the canonical form is refused.
    """
    if not isinstance(subject, str):
        return None
    try:
        user_id = uuid.UUID(subject)
    except ValueError:
        return None
    return user_id if str(user_id) == subject.lower() else None


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
