"""The identity provider's signing keys (JWKS), cached, fetched without ever queueing sign-ins.

Why not PyJWT's `PyJWKClient`: its fetch is blocking and runs under one lock, and a failed fetch starts
no cool-down. While the provider hung, every token with a made-up `kid` waited its turn for a fresh
fetch (5 s, 10 s, ... 30 s for six of them) and a valid token waited behind them all. Here:

- a token whose `kid` is cached never waits for a fetch;
- an unknown `kid` triggers at most one fetch per cool-down, successful or not, and every lookup that
  arrives meanwhile shares that one fetch (bounded by the fetch timeout) instead of starting its own;
- when the cached set expires it is refetched; if that fails, the set already held stays in use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)


class JwksCache:
    def __init__(self, url: str, *, lifespan_s: float, cooldown_s: float, timeout_s: float) -> None:
        self._url = url
        self._lifespan_s = lifespan_s
        self._cooldown_s = cooldown_s
        self._timeout_s = timeout_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")  # last successful fetch
        self._attempted_at = float("-inf")  # last fetch, whatever its outcome
        self._fetch: asyncio.Task[None] | None = None

    async def signing_key(self, token: str) -> jwt.PyJWK:
        """The key for the token's `kid`; `jwt.PyJWKClientError` if there is none."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise jwt.PyJWKClientError("the token names no key (kid)")
        now = time.monotonic()
        stale = now - self._fetched_at >= self._lifespan_s
        # An unknown kid (or an expired set) inside the cool-down is answered from what is held, at once,
        # so made-up kids cost nothing; otherwise it waits for (or joins) the one fetch.
        may_fetch = now - self._attempted_at >= self._cooldown_s or self._fetch is not None
        if (kid not in self._keys or stale) and may_fetch:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise jwt.PyJWKClientError("no signing key matches the token's kid")
        return key

    async def _refresh(self) -> None:
        """One fetch for everyone waiting: joins the fetch in flight, or starts one."""
        if self._fetch is None:
            self._attempted_at = time.monotonic()
            self._fetch = asyncio.create_task(self._fetch_keys())
            self._fetch.add_done_callback(self._fetched)
        # Shielded: a client giving up must not cancel the fetch the others are waiting for.
        await asyncio.shield(self._fetch)

    def _fetched(self, task: asyncio.Task[None]) -> None:
        self._fetch = None
        self._attempted_at = time.monotonic()  # the cool-down runs from the end of a (maybe timed-out) fetch
        if not task.cancelled() and task.exception() is None:
            self._fetched_at = time.monotonic()

    async def _fetch_keys(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(self._url, headers={"Accept": "application/json"})
                response.raise_for_status()
                data: Any = response.json()
            keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(data).keys if key.key_id}
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # Logged, not raised: a waiting lookup then finds its kid in the keys it already had, or not.
            log.warning("fetching the JWKS from %s failed: %s", self._url, type(exc).__name__)
            return
        self._keys = keys
        self._fetched_at = time.monotonic()
