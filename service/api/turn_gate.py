"""Admission at the door: a chat turn past the worker's in-flight bound is refused before routing.

Refused from a route dependency, a refusal paid for routing, the body read, dependency resolution and
the error handler: 0.85 ms of CPU here. Refused here, it costs the HTTP parsing and the server span:
0.56-0.62 ms (docs/performance.md). Cheaper is not free: clients that retry at once, ignoring
`Retry-After`, still share the worker's thread with the admitted turns; only a limit in front of the
service (per client, at the proxy) keeps them off it.

The slot reaches the route in the request's state (`turn_slot`); a route that hands it to the turn
(a streamed turn outlives its request) leaves its release to the turn's end.
"""

from __future__ import annotations

import re

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.admission import TurnSlot
from service.api.errors import error_response
from service.api.state import AppState
from service.errors import Overloaded

# The routes that run a turn: `POST /api/{user_id}/chat` and `/chat/stream` (service.api.chat), and the
# resumed turn of `…/conversations/{id}/approvals` and `/approvals/stream` (service.api.approvals).
TURN_PATH = re.compile(r"/api/[^/]+/(?:chat|conversations/[^/]+/approvals)(?:/stream)?")


class TurnGate:
    """ASGI middleware: a slot among the worker's in-flight turns, or 503 `overloaded` with `Retry-After`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not TURN_PATH.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            slot = AppState.of(scope["app"]).admission.admit()
        except Overloaded as exc:
            await error_response(exc.status_code, exc.code, exc.message, exc.headers())(scope, receive, send)
            return
        scope.setdefault("state", {})["turn_slot"] = slot
        try:
            await self.app(scope, receive, send)
        finally:
            if not slot.handed_over:
                slot.release()


async def turn_slot(request: Request) -> TurnSlot:
    """The slot `TurnGate` gave this request (async: a plain function would run in the threadpool)."""
    slot = getattr(request.state, "turn_slot", None)
    if not isinstance(slot, TurnSlot):
        raise RuntimeError("a turn route was reached without TurnGate (service.app installs it)")
    return slot
