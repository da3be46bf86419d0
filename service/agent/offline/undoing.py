"""Reading a request to undo the last turn: "undo that", "put it back how it was", "no undo that i still have not done
it". Undo takes no arguments (`undo_last_turn`), so only whether the message asks for it is read here."""

from __future__ import annotations

import re

from service.agent.offline.intents import UndoIntent
from service.agent.offline.vocabulary import TABLES, verbs

_UNDO_WHAT, _UNDO_BACK, _REGRET = ("|".join(TABLES["undo"][kind]) for kind in ("what", "back", "regret"))
_UNDO_RE = re.compile(rf"^(?:(?:{verbs('undo')}|cancel)(?: (?:{_UNDO_WHAT}))?|{_UNDO_BACK}|{_REGRET})$", re.I)


def parse_undo(text: str) -> UndoIntent | None:
    text = _UNDO_REASON_RE.sub("", text)  # "undo that i still have not done the last question"
    return UndoIntent() if _UNDO_RE.match(text) and text.lower() != "cancel" else None


_UNDO_REASON_RE = re.compile(
    r"^(?:no|nope|oops|whoops)\s+|(?<=\S)\s+(?:i|we|coz|cos|because)\b.*$"
    r"|(?:(?<=\bthat)|(?<=\bthis))\s+(?:the|my|our|it|they|he|she|as|since)\b.*$",
    re.I,
)
"""Around an undo: "no" before it, the reason after it ("no undo that i still have not done it, the rent bounced")."""
