"""Why, said after a request: a reason run on without a comma ("delete the gutters one i hired a guy") is no part
of the todo the request names. `read` is the clause reader (`reading.parse_request`), as for the swaps."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from service.agent.offline.intents import ChangeIntent, Intent, Reader

_REASON_TAIL_RE = re.compile(
    r"(?<!\bwhen)(?<!\bif)(?<!\bonce)(?<!\bafter)(?<!\bbefore)(?<!\buntil)(?<!\btill)(?<!\bthat)(?<!\bwhat)"
    r"\s+(?:i|we|i've|we've|cos|coz|cuz|because|since|it's|its|it\s+(?:is|has|was))\s+(?:\S+\s*){1,12}$",
    re.I,
)
"""Why, said after a request without a comma, as speech runs on: "delete the gutters one i hired a guy"."""


def without_reason(text: str, intent: Intent | None, read: Reader, today: date | None) -> Intent | None:
    """A change read without the reason run on after it: the todo is named by the words before it. A reading
    with the reason stays a choice (a title may say "when I get paid")."""
    if not (intent is None or (isinstance(intent, ChangeIntent) and not intent.tentative)):
        return intent
    if not (reason := _REASON_TAIL_RE.search(text)) or not (cut := read(text[: reason.start()], today)):
        return intent
    if not isinstance(cut, ChangeIntent) or cut.tentative or cut.action == "rename":
        return intent
    if intent is None or intent.action != cut.action:
        return cut
    return replace(cut, choices=(*cut.choices, *intent.choices))
