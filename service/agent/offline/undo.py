"""Undo through the change log, and the answer to deletes the user turned down (DESIGN §6a).

Kept apart from the planner: it only adds the `undo_last_turn` call for "undo that" / "put it back"
(the intent parser already knows those phrasings) and two answers written from tool outputs.
"""

from __future__ import annotations

from typing import Any

from service.agent.offline.conversation import Conversation, PastCall, snapshots
from service.agent.offline.text import quoted

TOOL = "undo_last_turn"

NOTHING = "There's no recent change in this conversation that I can undo."
_DID = {"re-added": "Put back {}.", "removed": "Removed {} again.", "restored": "Restored {} as it was."}


def _code(call: PastCall) -> str | None:
    problem: Any = (call.output or {}).get("error")
    return str(problem.get("code")) if isinstance(problem, dict) else None


def undo_answer(conv: Conversation) -> str | None:
    """The answer once this turn's `undo_last_turn` ran; None while it has not."""
    calls = conv.current.ran(TOOL)
    if not calls and not conv.history:  # a first message: nothing before it to undo
        return NOTHING
    if not calls:
        return None
    call = calls[-1]
    if _code(call) == "not_found":
        return NOTHING
    if call.error:
        return f"I couldn't undo that: {call.error}."
    undone = (call.output or {}).get("undone") or []
    by_kind: dict[str, list[str]] = {}
    for item in undone if isinstance(undone, list) else []:
        if isinstance(item, dict) and item.get("did") in _DID:
            by_kind.setdefault(item["did"], []).append(str(item.get("title")))
    sentences = [_DID[did].format(quoted(titles)) for did, titles in by_kind.items()]
    return " ".join(["Undone.", *sentences])


def rejected_answer(conv: Conversation) -> str | None:
    """When every change this turn tried was turned down by the user: say that nothing changed."""
    tried = conv.current.mutations
    if not tried or any(_code(call) != "rejected" for call in tried):
        return None
    known = snapshots(conv.turns)
    titles = [todo.title if (todo := known.get(str(call.arguments.get("todo")))) else str(call.arguments.get("todo"))
              for call in tried]  # fmt: skip
    verb = "delete" if all(call.name == "delete_todo" for call in tried) else "change"
    return f"OK, I didn't {verb} anything. {quoted(titles)} {'stays' if len(titles) == 1 else 'stay'} on your list."
