"""Why, said with a request. A reason run on without a comma ("delete the gutters one i hired a guy") is no part
of the todo the request names (`read` is the clause reader, `reading.parse_request`, as for the swaps); a remark
can tell what "everything to do with it" is about (`about_told`)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from service.agent.offline.changes import clean_ref
from service.agent.offline.intents import ChangeIntent, Choice, Intent, Reader
from service.agent.offline.queries import ABOUT_IT_RE

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


def about_told(change: ChangeIntent, remark: str) -> ChangeIntent | None:
    """ "the christmas party's been cancelled, delete everything to do with it": the todos about what the remark
    tells of; None when the change is not of "everything to do with it"."""
    if not (about := ABOUT_IT_RE.fullmatch(change.choices[0].ref)) or not (told := _TOLD_OF_RE.match(remark)):
        return None
    return replace(change, choices=(Choice(f"{about['group']} {clean_ref(told['subject'])}"),))


_TOLD_OF_RE = re.compile(
    r"^(?P<subject>(?:the|my|our|[\w-]+'s)\s[\w' -]+?)"
    r"(?:'s\s+(?=been|off|cancell?ed|moved|over|not)|\s+(?:is|are|was|were|has|have|had|got)\s)",
    re.I,
)
"""What a remark tells of: "the christmas party's been cancelled" -> "the christmas party", "mia's party is off"."""
