"""A change of the whole list with some todos left out: "delete everything except the passport one", "all done
but the gym one" (the list-wide change, as a `BulkIntent` with `keep`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from service.agent.offline.chatter import PRONOUN_RE, REST_RE
from service.agent.offline.intents import Action, BulkIntent, ChangeIntent, Choice, Intent, MultiIntent, ReplyIntent
from service.agent.offline.queries import parse_group, split_exception

_BULK_DEFAULT: dict[Action, bool | None] = {"complete": False, "reopen": True, "delete": None}
"""The todos a list-wide change is about: completing the open ones, reopening the done ones, deleting any."""


def parse_exception(text: str, today: date | None, read: Callable[[str], Intent | None]) -> Intent | None:
    """ "delete everything except the passport one", "all of them are done but the gym one", "got the
    shopping apart from the eggs, tick the rest off": a change of the whole list with some todos left out;
    other actions of the message stay ("..., and add bread"). A change of todos it names ("mark the milk
    done but not the eggs") is made as named; one of "them" is not guessed at, as the todo left out may be
    one of them."""
    if (split := split_exception(text)) is None:
        return None
    rest, keep = split
    intent = read(rest)
    parts = intent.parts if isinstance(intent, MultiIntent) else (intent,)
    wide = next((i for i, part in enumerate(parts) if _list_wide(part)), None)
    if wide is not None:
        part = parts[wide]
        bulk = replace(part, keep=keep) if isinstance(part, BulkIntent) else _as_bulk(part, keep)
        # a statement beside it tells the same ("got the lot apart from the eggs, tick the rest off")
        kept = [p if i != wide else bulk for i, p in enumerate(parts) if i == wide or not _told(p)]
        return MultiIntent(tuple(kept)) if len(kept) > 1 else bulk  # type: ignore[arg-type]
    if any(isinstance(part, ChangeIntent) and any(PRONOUN_RE.match(c.ref) for c in part.choices) for part in parts):
        return ReplyIntent("unclear")
    groups = [part for part in parts if isinstance(part, ChangeIntent) and _several(part.choices[0].ref, today)]
    if len(groups) == 1:  # "I've done all the christmas tasks except the cards": the group, less the cards
        less = replace(groups[0], keep=keep)
        if isinstance(intent, MultiIntent):
            return replace(intent, parts=tuple(less if part is groups[0] else part for part in intent.parts))
        return less
    return intent if any(isinstance(part, ChangeIntent) for part in parts) else None


def _told(part: Intent | None) -> bool:
    return isinstance(part, ChangeIntent) and part.tentative


def _list_wide(part: Intent | None) -> bool:
    if isinstance(part, BulkIntent):
        return True
    return isinstance(part, ChangeIntent) and part.action in _BULK_DEFAULT and all(map(_everything, part.choices))


def _as_bulk(part: Intent | None, keep: tuple[str, ...]) -> BulkIntent:
    assert isinstance(part, ChangeIntent)
    return BulkIntent(part.action, _BULK_DEFAULT[part.action], keep)  # type: ignore[arg-type]


def _everything(choice: Choice) -> bool:
    """The whole list: "the rest", "all of them"; not "them" or "both", which mean the todos just named."""
    return bool(REST_RE.match(choice.ref) or _ALL_OF_THEM_RE.match(choice.ref))


_ALL_OF_THEM_RE = re.compile(r"^(?:all|everything|all of (?:them|those|these|it))$", re.I)


_SPAN_RE = re.compile(
    r"^(?:the )?(?:first|last|top|bottom) (?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)$", re.I
)


def _several(ref: str, today: date | None) -> bool:
    """A reference to several todos some may be left out of: a group ("all the Christmas tasks") or a span of the
    list shown ("the first two")."""
    return bool(_SPAN_RE.match(ref) or parse_group(ref, today))
