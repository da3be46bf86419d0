"""Requests on a condition: "if I've already booked the dentist, bin that todo" changes the todo only when the
condition holds. The planner checks it against the list (`planner.unmet`); it is never assumed, since acting
on a condition that does not hold loses what the user meant to keep."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from service.agent.offline.intents import ChangeIntent, Choice, Condition, Intent
from service.agent.offline.text import alternation, expand
from service.agent.offline.vocabulary import TABLES, verbs

_COMMANDS = verbs("delete", "complete", "reopen", "due", "mark")
_IF_RE = re.compile(
    r"^(?:only\s+)?if\s+(?:(?P<condition>[^,;]+?)\s*[,;]\s*(?:then\s+)?(?P<request>.+)"
    rf"|(?P<bare>.+?)\s+(?:then\s+)?(?:just\s+)?(?P<command>(?:{_COMMANDS})\b.+))$",
    re.I,
)
_IF_SO_RE = re.compile(
    r"^(?P<verb>is|are|has|have|did)\s+(?P<condition>[^?]+?)\s*\?+\s*(?:and\s+)?"
    r"if (?:so|yes|it is|it has|they are|i have)\b[,\s]*(?:then\s+)?(?P<request>\S.*)$",
    re.I,
)
"""A condition asked as a question: "is the gym thing done? if so delete it", "have I paid the rent? if so ..."."""
_STATES = TABLES["conditions"]
_STATE_ASKED_RE = re.compile(
    rf"\b(?:still\s+)?(?:(?P<done>{alternation(_STATES['done'])})|{alternation(_STATES['other'])})"
    r"(?:\s+(?:yet|already|now))?$|^(?:i|we)\s",
    re.I,
)
"""A question the condition can be read from: whether a todo is done or open ("is X done?", "have I paid X?")."""
_NEGATED_RE = re.compile(r"\b(?:not|never|yet|still need to|still have to)\b", re.I)
# What is left of a condition once its subject, auxiliaries and time words go: the todo, as a deed or a name.
_FRAME_RE = re.compile(
    r"^(?:(?:i|we)\s+)?(?:(?:have|has|had|did|do|does|am|are|is|was|were|not|already|yet|still|just|actually)\s+)*"
    r"|(?:\s+(?:already|yet|by now|now|done|finished|sorted))+$",
    re.I,
)
_STATE_RE = re.compile(r"^(?P<ref>.+?)\s+(?:is|was|are|were|has been|have been)\s+(?:already\s+)?\w+$", re.I)
"""The todo named as a state: "the dentist is booked" -> "the dentist"."""
_STILL_THERE_RE = re.compile(
    r"^(?P<ref>.+?)\s+(?:is|are)\s+(?:still\s+)?(?:on (?:there|the list|my list|it)|there|open|pending|outstanding|left"
    r"|to do|not done)$",
    re.I,
)


def parse_conditional(text: str, read: Callable[[str, date | None], Intent], today: date | None) -> Intent | None:
    """ "if <a todo is or is not done>, <a change>": the change, to be made only if the condition holds.
    None when the message has no such condition or asks no change (it is then read as it stands)."""
    if (asked := _IF_SO_RE.match(text)) and (state := _STATE_ASKED_RE.search(asked["condition"])):
        # "is the gym one still open? if so bin it": "if the gym one is still open, ..."; "is X done?": "if X done"
        condition, verb = asked["condition"], asked["verb"].lower()
        if verb in ("is", "are") and not state["done"]:
            condition = f"{condition[: state.start()].rstrip()} {verb} {condition[state.start() :]}"
        text = f"if {condition}, {asked['request']}"
    if not (match := _IF_RE.match(text)):
        return None
    request = read(match["request"] or match["command"], today)
    if not isinstance(request, ChangeIntent) or request.action == "status":
        return None
    condition = expand(match["condition"] or match["bare"])
    done = not _NEGATED_RE.search(condition)
    cleaned = _FRAME_RE.sub("", " ".join(_NEGATED_RE.sub(" ", condition).split()))
    if still := _STILL_THERE_RE.match(condition):  # "if the gym one is still on there": if it is not done
        cleaned, done = still["ref"], False
    ref = named["ref"] if (named := _STATE_RE.match(cleaned)) else cleaned
    if not ref:
        return None
    # The condition's todo is the one "that todo" / "it" in the request means.
    choices = (Choice(ref, request.choices[0].value, antecedent=True), *request.choices)
    return replace(request, choices=choices, only_if=Condition(ref, done))
