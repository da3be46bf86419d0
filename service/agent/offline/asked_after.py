"""A change asked right after a question, of what the question was about: "have I paid the council tax? ... mark
it done", "what's overdue - push those to monday"; and a list question asked after changes ("tick off the hoovering
and then tell me what's left"). `read` reads each part (`reading`), as for conditions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TypeGuard

from service.agent.offline import intents
from service.agent.offline.chatter import PRONOUN_RE, refers_back
from service.agent.offline.intents import ChangeIntent, Choice, Intent, ListIntent, MultiIntent

_ABOUT_A_NOTE_RE = re.compile(r"\b(?:notes?|description|details|wr[io]te|jot(?:ted)?|put down)\b", re.I)
_CHANGE_IT_RE = re.compile(r"^(?:change|make|set|update) (?:it|that) to\b", re.I)
"""A bare "change it to ...", which after a question about a note means the note (a "rename" stays a rename)."""
_QUESTION_THEN_RE = re.compile(r"^(?P<question>[^?]+?)(?:\?+|\s+-+)\s+(?P<then>\S.*)$")


def question_then_change(
    text: str, read: Callable[[str, date | None], Intent], today: date | None
) -> ChangeIntent | MultiIntent | None:
    """The change of "it" or "those" after a question, made to the todo or todos the question asked about; a
    change of its own beside a list question, made and the question answered ("what's left? tick off the bins
    too"); None for any other message."""
    if not (cut := _QUESTION_THEN_RE.match(text)):
        return None
    question = cut["question"]
    asked, then = read(question, today), read(cut["then"], today)
    shown = _shown_by(asked, question)
    if shown and isinstance(then, intents.BulkIntent):
        # "anything about the car? delete all of it": the todos the question found, never the whole list
        return ChangeIntent(then.action, (Choice(shown),))
    if isinstance(asked, ListIntent) and _of_its_own(then):
        return MultiIntent((_on_the_day_asked(then, asked),), asked=asked)
    if not isinstance(then, ChangeIntent):
        return None
    pointing = tuple(choice for choice in then.choices if PRONOUN_RE.match(choice.ref))
    if not pointing or not all(refers_back(choice.ref) for choice in then.choices):
        return None  # "... i've just booked the dentist so tick that off": "that" is the dentist
    if then.action == "rename" and _ABOUT_A_NOTE_RE.search(question) and _CHANGE_IT_RE.match(cut["then"]):
        then = replace(then, action="describe")  # "what did I write for the vet one? change it to ...": the note
    if isinstance(asked, ChangeIntent) and asked.action == "status":
        about = asked.choices[0].ref
    elif shown:
        about = shown
    else:
        return None
    return replace(then, choices=(Choice(about, pointing[0].value, antecedent=True), *pointing))


def _shown_by(asked: Intent, question: str) -> str | None:
    """The todos a list question shows, as a group reference ("everything about the car", "all what's overdue");
    None for a question that narrows nothing ("what should I do next?" shows every open todo)."""
    if not isinstance(asked, ListIntent) or not (asked.search or asked.due_until or asked.undated or asked.completed):
        return None
    return f"everything about {asked.search}" if asked.search else f"all {question.rstrip(' ?')}"


_THAT_DAY_RE = re.compile(r"\s+(?:to|for|on)\s+(?:that|the same)\s+day(?:\s+(?:too|as well))?$", re.I)


def _on_the_day_asked(then: intents.Action_, asked: ListIntent) -> intents.Action_:
    """ "what have I got on friday? add haircut to that day too": the add is due on the day asked about."""
    day = asked.due_from if asked.due_from and asked.due_from == asked.due_until else None
    if not isinstance(then, intents.AddIntent) or day is None:
        return then
    todos = [
        replace(todo, title=_THAT_DAY_RE.sub("", todo.title), due_date=day.isoformat())
        if _THAT_DAY_RE.search(todo.title) else todo
        for todo in then.todos
    ]  # fmt: skip
    return replace(then, todos=tuple(todos))


def _of_its_own(then: Intent) -> TypeGuard[intents.Action_]:
    """A change that names its own todos (or adds some), not one pointing back at what the question showed."""
    if isinstance(then, intents.AddIntent | intents.BulkIntent):
        return True
    return (
        isinstance(then, ChangeIntent)
        and then.action != "status"
        and not any(refers_back(choice.ref) for choice in then.choices)
    )


_THEN_ASKED_RE = re.compile(
    r"^(?P<changes>\S.*?)(?:[.!?]+\s+|,?\s+(?:and\s+)?then\s+|,?\s+and\s+|[,;]\s+)"
    r"(?P<question>(?:(?:can you |could you |please )?(?:tell|show|give) me |remind me )?"
    r"(?:what|which|how many|anything)\b[^.!]*?)\?*$",
    re.I,
)


def change_then_question(
    text: str, read: Callable[[str, date | None], Intent], today: date | None
) -> MultiIntent | None:
    """Changes, then a question about the list: the changes made and the question answered from the list they
    leave ("tick off the hoovering and then tell me what's left", "... and what's due friday?")."""
    if not (cut := _THEN_ASKED_RE.match(text)):
        return None
    asked = read(cut["question"], today)
    if not isinstance(asked, ListIntent):
        return None
    changes = read(cut["changes"], today)
    parts = changes.parts if isinstance(changes, MultiIntent) and changes.asked is None else (changes,)
    actions = tuple(part for part in parts if _of_its_own(part))
    return MultiIntent(actions, asked=asked) if len(actions) == len(parts) else None
