"""Follow-ups: the latest message in the context of our previous answer - "the second one" answers
our "which one?", "yes" accepts an offer, "and eggs" continues an add, "next page" pages on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from service.agent.offline.adds import new_todos
from service.agent.offline.changes import clean_ref
from service.agent.offline.chatter import parse_small_talk, strip_fillers
from service.agent.offline.clauses import parse_intent
from service.agent.offline.conversation import Turn
from service.agent.offline.dates import date_value
from service.agent.offline.intents import (
    Action,
    AddIntent,
    ChangeIntent,
    Choice,
    Intent,
    ListIntent,
    MultiIntent,
    OfferAddIntent,
    ReplyIntent,
)
from service.agent.offline.text import normalize, strip_all

# --- in context: answers to our questions, continuations ---------------------------------------

_YES_RE = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please|go ahead|do it|add it|why not)\b(?!.*\bnot?\b)", re.I)
_CONTINUATION_RE = re.compile(r"^(?:and|also|plus|same (?:for|with)|likewise)\b|\b(?:too|as well)[.!]*$", re.I)
_CONTINUABLE: frozenset[Action] = frozenset({"complete", "reopen", "delete", "due"})


def understand(turns: Sequence[Turn], today: date | None) -> Intent:
    """The latest message's intent. A bare reference ("the second one", "mom") answers the question
    our previous answer asked; "and the milk too" repeats the previous change for another todo;
    "yes" accepts our offer to add something."""
    intent = parse_intent(turns[-1].user_text, today)
    if isinstance(intent, ListIntent) and intent.more:
        return _next_page(intent, turns, today)
    if len(turns) < 2:
        return intent
    continues_add = isinstance(intent, OfferAddIntent) or intent == ReplyIntent("unclear")
    if continues_add and (added := _added_more(intent, turns, today)):
        return added
    if continues_add and (fixed := _fixed_wording(turns, today)):
        return fixed
    if not isinstance(intent, ReplyIntent):
        return intent
    previous = understand(turns[:-1], today)
    if isinstance(previous, MultiIntent):  # the one action of several that our answer asked about
        previous = _asked_about(previous, turns[-2].answer or "")
    if isinstance(previous, OfferAddIntent) and (turns[-2].answer or "").rstrip().endswith("?"):
        return AddIntent(previous.todos) if _YES_RE.match(normalize(turns[-1].user_text)) else ReplyIntent("declined")
    if intent.kind != "unclear":
        return intent
    if not isinstance(previous, ChangeIntent):
        return intent
    message = normalize(turns[-1].user_text)
    reply, _ = strip_fillers(message)
    if (turns[-2].answer or "").rstrip().endswith("?"):
        return ChangeIntent(previous.action, (Choice(reply),), follow_up_of=previous)
    if _CONTINUATION_RE.search(message) and previous.action in _CONTINUABLE and turns[-2].changed:
        return ChangeIntent(previous.action, (Choice(clean_ref(reply), previous.choices[0].value),))
    return intent


def _asked_about(intent: MultiIntent, answer: str) -> Intent:
    """The change whose reference our answer quoted in its question ("which one?"), else the whole."""
    for part in intent.parts:
        if not isinstance(part, ChangeIntent):
            continue
        asked = (f'{lead} "{part.choices[0].ref.lower()}"' for lead in ("matches", "mean by"))
        if any(question in answer.lower() for question in asked):
            return part
    return intent


_FIX_LEAD_RE = re.compile(
    r"^(?:(?:no|nope|sorry|oops|whoops|wait|actually|oh|hang on|hold on)\b[\s,!.:;-]+)+(?:i meant\s+)?(?P<rest>.+)$",
    re.I,
)


def _fixed_wording(turns: Sequence[Turn], today: date | None) -> ChangeIntent | None:
    """ "add buy apples" - "no, pears": a short correction right after an add rewords (or re-dates) it."""
    fix = _FIX_LEAD_RE.match(normalize(turns[-1].user_text))
    if fix is None or not turns[-2].changed or not isinstance(understand(turns[:-1], today), AddIntent):
        return None
    value = fix["rest"].strip(" .!")
    if day := date_value(value, today):
        return ChangeIntent("due", (Choice("that", day.isoformat()),))
    return ChangeIntent("rename", (Choice("that", value, correction=True),)) if len(value.split()) <= 6 else None


DEFAULT_PAGE = 50
"""What `list_todos` returns when no limit is given."""


def _next_page(intent: ListIntent, turns: Sequence[Turn], today: date | None) -> ListIntent:
    """ "Next page" after a list: the same filter, from where the last page shown ended."""
    for index in reversed(range(len(turns) - 1)):
        if not turns[index].is_listing:
            continue
        shown = understand(turns[: index + 1], today)
        if not isinstance(shown, ListIntent):
            continue  # a listing to find a todo to change, not to show
        size = intent.limit or shown.limit
        if intent.page is not None:
            offset = (intent.page - 1) * (size or DEFAULT_PAGE)
        else:
            offset = (shown.offset or 0) + len(turns[index].listing())
        return replace(shown, limit=size or DEFAULT_PAGE, offset=offset, more=False, page=None)
    return ListIntent(limit=intent.limit)  # nothing shown yet: show the list


def _added_more(intent: Intent, turns: Sequence[Turn], today: date | None) -> AddIntent | None:
    """ "add apples" - "and pears": more of the same kind, right after an add."""
    message = normalize(turns[-1].user_text)
    if not _CONTINUATION_RE.search(message) or not turns[-2].changed:
        return None
    if not isinstance(previous := understand(turns[:-1], today), AddIntent):
        return None
    if isinstance(intent, OfferAddIntent):
        return AddIntent(intent.todos)
    body, _ = strip_fillers(strip_all(_CONTINUATION_RE, message, " ,.!"))
    if not body or parse_small_talk(body):  # not "thanks too"
        return None
    todos = new_todos(f"{previous.todos[-1].title}, {body}", today)[1:]  # "buy milk" - "and eggs": "Buy eggs"
    return AddIntent(todos) if todos else None
