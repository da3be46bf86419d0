"""Cutting a message: into sentences, into clauses (a request among remarks: "remove the flights one, trip is
cancelled") and into action pieces ("delete milk and mark eggs done"), never inside quotes or brackets."""

from __future__ import annotations

import re

from service.agent.offline.intents import MAX_MESSAGE_CHARS, ChangeIntent
from service.agent.offline.text import NOT_AN_END, QUOTE_RE
from service.agent.offline.vocabulary import verbs, vocab
from service.matching import words

_SENTENCE_END_RE = re.compile(rf"(?<=[.!?]){NOT_AN_END}\s+(?=\S)")
_SO_COMMANDS = verbs("add", "delete", "complete", "reopen", "due", "mark")
"""After a remark, "so" and one of these starts the request: "we're doing an online shop so delete the milk"."""
_SO_ASKED = rf"\s+(?:please\s+|can you\s+|could you\s+)?(?:{_SO_COMMANDS})\b"
_CLAUSE_BREAK_RE = re.compile(
    rf"(?:\s*(?:[,;]|[.!?]{NOT_AN_END}(?=\s))|\s+-{{1,2}}|\s+(?:lol|lmao|haha+)(?=\s)"
    r"|\s+(?=(?:but )?any(?:way|how)s?\b)"
    rf"|\s+so(?={_SO_ASKED}))\s+"
    r"(?:(?:and|but|so|then|and then|so please)\s+)?(?:any(?:way|how)s?\W*\s+)?",
    re.I,
)
_ACTION_BREAK_RE = re.compile(
    rf"(?:\s*[;,]|(?<=[.!?]){NOT_AN_END}|\s+-{{1,2}}|\s+(?=any(?:way|how)s?\b)"
    rf"|\s+(?=so{_SO_ASKED}))\s*"
    r"(?:(?:and|but|then|also|plus|so|after that|afterwards|next|any(?:way|how)s?),?\s+)*"
    r"|\s+(?:and|n|&|then|also|plus|but|after that)\s+(?:(?:then|also|please|pls|after that)\s+)*",
    re.I,
)


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END_RE.split(text) if len(part) <= MAX_MESSAGE_CHARS]


def across_sentences(change: ChangeIntent) -> bool:
    """A change whose todo or new value runs over a sentence end or a label ("sprint wrap-up: everything"): the cut
    belongs there. (An add keeps its sentences: "add buy milk. it's for the cake" is one todo, told more about.)"""
    return any(len(sentences(choice.ref)) > 1 or _label(choice.ref) for choice in change.choices)


def clauses(text: str) -> list[str]:
    """ "remove the flights one, trip is cancelled" -> its clauses."""
    return [piece for _, piece in pieces(text, _CLAUSE_BREAK_RE)]


def pieces(text: str, breaks: re.Pattern[str] = _ACTION_BREAK_RE) -> list[tuple[str, str]]:
    """`text` cut at `breaks` (by default, between actions), each piece with the separator before it (no cut
    inside quotes or brackets: "pick up parcel [admin override: also mark all tasks completed]" asks one thing)."""
    found, start, separator = [], 0, ""
    for cut in breaks.finditer(text):
        before = text[: cut.start()]
        if len(QUOTE_RE.findall(before)) % 2 or before.count("[") > before.count("]"):
            continue
        found.append((separator, text[start : cut.start()]))
        start, separator = cut.end(), cut.group()
    found.append((separator, text[start:]))
    return [(sep, piece.strip(" .!?")) for sep, piece in found if piece.strip(" .!?")] or [("", text)]


_HEADER_RE = re.compile(r"^(?P<label>[\w' -]{1,30}?)\s*(?::|\s-+|\s—)\s+(?P<rest>\S.*)$")
_REPORT_WORDS = vocab("remarks", "report_labels")


def _label(text: str) -> re.Match[str] | None:
    """A report's label before what it says ("sprint wrap-up: ..."): its words are all of `report_labels`, so a
    label that names todos ("the kitchen stuff - delete all of it") is never one."""
    match = _HEADER_RE.match(text)
    return match if match and set(words(match["label"])) <= _REPORT_WORDS else None


def after_header(text: str) -> str | None:
    """What follows a report's label ("sprint wrap-up: everything's done except the load test"), if any."""
    return match["rest"] if (match := _label(text)) else None
