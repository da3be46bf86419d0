"""Test doubles of an identity provider: asymmetric signing keys and a JWKS endpoint on real loopback HTTP.

The endpoint is a real server (not a mock of PyJWT's fetch) because what is under test is how the service's
JWKS client behaves over the network: caching, refetching on an unknown `kid`, and failing closed when the
server is down or answers garbage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.live_server import free_port

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    """A private key with the `kid` and `alg` an identity provider would publish it under."""

    kid: str
    alg: str
    private: PrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def jwk(self) -> dict[str, Any]:
        """The public half as a JWKS entry."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            data = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def raw_signer(self, data: bytes) -> bytes:
        """The bare signature of `data`, for tokens put together by hand."""
        algorithm = get_default_algorithms()[self.alg]
        return algorithm.sign(data, self.private)

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **headers})


def new_key(alg: str, kid: str) -> SigningKey:
    private: PrivateKey
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(alg)
    return SigningKey(kid=kid, alg=alg, private=private)


@dataclass
class JwksServer:
    """Publishes `keys` at `url`; `answer` switches it to a broken reply; `fetches` counts GETs."""

    keys: list[SigningKey] = field(default_factory=list)
    answer: str = "keys"  # keys | 500 | not-json | empty | hang (no answer until `stop`)
    fetches: int = 0
    _unhang: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = field(default_factory=free_port)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    async def _jwks(self, _: Request) -> Response:
        self.fetches += 1
        if self.answer == "hang":
            await self._unhang.wait()
        if self.answer == "500":
            return PlainTextResponse("identity provider on fire", status_code=500)
        if self.answer == "not-json":
            return PlainTextResponse("<html>maintenance</html>")
        if self.answer == "empty":
            return JSONResponse({"keys": []})
        return JSONResponse({"keys": [key.jwk for key in self.keys]})

    async def start(self) -> None:
        """Serve on `port` (the same one after a `stop`, like a provider coming back)."""
        app = Starlette(routes=[Route("/.well-known/jwks.json", self._jwks)])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raise a failure to bind
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._unhang.set()  # a hung request would hold the shutdown
            self._server.should_exit = True
            await self._task
            self._server = self._task = None


@asynccontextmanager
async def serve_jwks(server: JwksServer) -> AsyncIterator[JwksServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
