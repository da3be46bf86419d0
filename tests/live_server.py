"""Serve an ASGI app with uvicorn on a free loopback port, on the test's own event loop.

For tests that need a real socket: a browser, a client that disconnects, a fake provider.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_asgi(
    app: ASGIApp, *, lifespan: Literal["on", "off"] = "on", port: int | None = None
) -> AsyncIterator[tuple[uvicorn.Server, str]]:
    """The running server and its base URL, until the block ends (or the test stops the server).

    `port` serves on a given port instead of a free one: a server stopped and started again there
    looks to its clients like one that went down and came back.
    """
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # start-up failed: show why
            task.result()
            raise RuntimeError("uvicorn exited before it started")
        await asyncio.sleep(0.01)
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
