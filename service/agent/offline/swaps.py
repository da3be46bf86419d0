"""Messages that set one thing against another ("X, not Y"): the new words of a rename in place of the old
ones, the todo a change was meant for, and a "not" that only tells two things apart. Each reader is given
`read` (the clause reader, `reading.parse_request`), as the conditions are."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from service.agent.offline.changes import NOT_THIS_BUT_RE, clean_ref
from service.agent.offline.chatter import strip_fillers
from service.agent.offline.dates import date_value
from service.agent.offline.intents import ChangeIntent, Intent, Reader
from service.agent.offline.queries import named_part
from service.agent.offline.text import QUOTE_RE
from service.agent.offline.vocabulary import DONE_RE, OPEN_RE, starts_command

_NOT_THE_OLD_RE = re.compile(
    r"^(?P<head>.+?),?\s+(?:and\s+)?not\s+(?:the\s+)?(?P<old>[\"']?[\w'-]+(?: [\w'-]+){0,2}[\"']?)$", re.I
)
"""A change, then the few words it is not: "change the tap one to say bathroom tap, not kitchen"."""
_IT_IS_RE = re.compile(r"^(?:it's|its|it is|it was|that's|that is)\b", re.I)
_THEN_FIX_RE = re.compile(
    r"^(?P<head>.+?)\s*(?:[,;]|\s-+)\s*(?:(?P<fix>not\s.+)"
    r"|(?:(?:no|wait|sorry|oops|actually|i mean|i meant)[\s,!.-]+)+(?P<new>(?:the|my)\s.+))$",
    re.I,
)
"""A change, then the todo meant: "bill's paid - not the gas one, the water one", "done the sam one - no wait, the
Jo one"."""


def swapped(text: str, read: Reader, today: date | None) -> ChangeIntent | None:
    """The one change of a message that ends by setting something aside, or None."""
    return _meant_instead(text, read, today) or _renamed_in_place(text, read, today)


def _renamed_in_place(text: str, read: Reader, today: date | None) -> ChangeIntent | None:
    """ "change the tap one to say bathroom tap, not kitchen": one rename, the new words in place of the old."""
    if not (swap := _NOT_THE_OLD_RE.match(text)) or re.fullmatch(rf"(?:{DONE_RE}|{OPEN_RE})", swap["old"], re.I):
        return None  # "make it again not finished" tells a state
    old, intent = swap["old"], read(swap["head"], today)
    if isinstance(intent, ChangeIntent) and intent.action == "due" and date_value(old, today):
        return intent  # "make it friday not thursday": the old date is said only to be set aside
    if not isinstance(intent, ChangeIntent) or intent.action != "rename" or len(intent.choices) != 1:
        return None
    choice = intent.choices[0]
    if choice.ref == "that" or len(QUOTE_RE.findall(choice.value or "")) % 2:
        # a correction ("it's for tim actually, not tom") is read whole; so is a quoted new title followed by
        # why ("change X to 'call electrician', it's the lights not the pipes")
        return None
    new = (choice.value or "").strip("\"'")
    return replace(intent, choices=(replace(choice, value=new, correction=True, replaces=old.strip("\"'")),))


def _meant_instead(text: str, read: Reader, today: date | None) -> ChangeIntent | None:
    """ "bill's paid - not the gas one, the water one", "done the sam one - no wait, the Jo one": the change,
    made to the todo named last."""
    if not (cut := _THEN_FIX_RE.match(text)):
        return None
    if cut["fix"] and (fix := NOT_THIS_BUT_RE.match(cut["fix"])):
        meant = fix["new"]
    elif cut["new"] and not date_value(f"on {cut['new']}", today):  # not "..., no, the 28th"
        meant = named_part(cut["new"])  # "the other one - sarah"
    else:
        return None
    intent = read(cut["head"], today)
    if not isinstance(intent, ChangeIntent) or len(intent.choices) != 1 or intent.action == "rename":
        return None
    return replace(intent, choices=(replace(intent.choices[0], ref=clean_ref(meant)),), tentative=False)


def told_apart(intent: Intent | None, piece: str) -> bool:
    """ "it's the lights not the pipes" after another change: what the user tells apart, not a title to correct."""
    corrects = isinstance(intent, ChangeIntent) and intent.action == "rename" and intent.choices[0].correction
    return corrects and bool(_IT_IS_RE.match(piece))


def cancelled_why(current: Intent | None, following: Intent | None, separator: str, piece: str) -> bool:
    """ "there's no deadline on the novel anymore, book club got cancelled": after another change, a delete told
    rather than asked, and not joined by "and", says why; it deletes nothing."""
    joined = re.search(r"\b(?:and|n|also|plus|then)\b|&", separator, re.I)
    asked = starts_command(strip_fillers(piece)[0])
    told = isinstance(following, ChangeIntent) and following.action == "delete" and not asked and not joined
    return told and isinstance(current, ChangeIntent) and current.action != "delete"
