"""Admission control: a bound on the chat turns one worker runs at once.

Past saturation, a turn admitted anyway waits for the CPU behind every turn already in flight, and
so does every turn after it: with a 1 s model, 300 clients on one worker got no answer in the
first 11 s, then every answer at once, up to 29 s late (37 s streamed). Refusing the turns over
the bound at once, with a `Retry-After`, keeps the admitted ones at their normal latency and tells
the others when to come back (a client, a load balancer or another replica can act on a fast 503;
not on a 30 s wait).

The count is per process (per uvicorn worker), which is what shares one event loop and one core.
It covers the whole turn: a streamed turn's slot is released when the turn ends, not when its
client stops reading (the turn runs on and is stored whole, see `AgentRuntime.stream_turn`).
"""

from __future__ import annotations

from service.errors import Overloaded

# A turn takes seconds with a real model; a slot is likely free again within one.
RETRY_AFTER_S = 1


class TurnSlot:
    """One admitted turn; `release` gives the slot back (once, however often it is called)."""

    __slots__ = ("_admission", "_released", "handed_over")

    def __init__(self, admission: TurnAdmission) -> None:
        self._admission = admission
        self._released = False
        # Set when the turn's own end (its hooks) releases the slot, rather than the request's end.
        self.handed_over = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission.inflight -= 1


class TurnAdmission:
    """Admits at most `limit` turns at once (0: no limit); the rest get `Overloaded` (503, Retry-After)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0
        self.rejected = 0

    def admit(self) -> TurnSlot:
        if self.limit and self.inflight >= self.limit:
            self.rejected += 1
            raise Overloaded(RETRY_AFTER_S)
        self.inflight += 1
        return TurnSlot(self)
