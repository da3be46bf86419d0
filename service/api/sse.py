"""Server-sent events: the wire format and the heartbeat, for any endpoint that streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")

# A comment line: clients ignore it, proxies see bytes and keep an idle stream open.
PING = ": ping\n\n"

HEADERS = {
    "Cache-Control": "no-store",  # as every API response (service.api.headers)
    # nginx buffers responses by default, which would hold every event until the turn ends.
    "X-Accel-Buffering": "no",
}


def sse_event(name: str, data: str) -> str:
    """One event. `data` must be a single line, which JSON text without indentation always is."""
    return f"event: {name}\ndata: {data}\n\n"


async def with_heartbeat(events: AsyncIterator[T], interval_s: float) -> AsyncIterator[T | None]:
    """`events`, with a None whenever `interval_s` passes without one, so the caller can send a ping.

    The pending read is kept across pings rather than cancelled by a timeout, which would close
    `events` mid-stream.
    """
    pending = asyncio.ensure_future(anext(events))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=interval_s)
            if not done:
                yield None
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
            pending = asyncio.ensure_future(anext(events))
    finally:
        pending.cancel()
