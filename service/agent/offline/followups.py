"""Reading the latest message in the context of the conversation: an answer to the question we asked
("the second one", "yes"), more of the same ("and eggs"), a correction of what was just done ("no, limes",
"I meant the dentist one"), the next page. `reading` reads a message on its own; this reads it in turn."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from service.agent.offline import changes, intents
from service.agent.offline.adds import clean_title, new_todos
from service.agent.offline.chatter import PRONOUN_RE, parse_small_talk, strip_fillers
from service.agent.offline.conversation import Turn
from service.agent.offline.cutting import sentences
from service.agent.offline.dates import date_value
from service.agent.offline.intents import AddIntent, ChangeIntent, Choice, Intent, OfferAddIntent, ReplyIntent
from service.agent.offline.queries import OTHER_RE, named_part, the_others
from service.agent.offline.reading import parse_intent
from service.agent.offline.text import alternation, expand, normalize, strip_all
from service.agent.offline.vocabulary import TABLES, WEAK_STEMS, vocab
from service.matching import ORDINALS, key_words, same_word

_YES_RE = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please|go ahead|do it|add it|why not)\b(?!.*\bnot?\b)", re.I)
_CONTINUATION_RE = re.compile(r"^(?:and|also|plus|same (?:for|with)|likewise)\b|\b(?:too|as well)[.!]*$", re.I)
_CONTINUABLE: frozenset[intents.Action] = frozenset({"complete", "reopen", "delete", "due"})
_ALSO_RE = re.compile(r"^(?:same (?:for|with)|likewise)\b|\b(?:too|as well)[.!]*$", re.I)
"""Only these make "and call mom too" another of the same change: a bare "and call mom" may be a new todo."""
_ONLY_RE = re.compile(
    r"^(?:(?:actually|no|nope|wait|sorry|oh|hmm|ok|okay|yes|yeah|yep|sure|but|thanks|thank you)\b[\s,.!-]*)*"
    r"(?:just|only)\s+(?P<ref>.+?)(?:,?\s+(?:then|please|instead))?$",
    re.I,
)
"""Fewer of the todos we asked about: "actually no, just the receipts one" (after "Shall I delete both?")."""


def understand(turns: Sequence[Turn], today: date | None) -> Intent:
    """The latest message's intent. A bare reference ("the second one", "mom") answers the question
    our previous answer asked; "and the milk too" repeats the previous change for another todo;
    "yes" accepts our offer to add something."""
    intent = parse_intent(turns[-1].user_text, today)
    if isinstance(intent, intents.ListIntent) and intent.more:
        return _next_page(intent, turns, today)
    if len(turns) < 2:
        return intent
    if isinstance(intent, ReplyIntent | intents.ListIntent) and (narrowed := _narrowed_approval(turns, today)):
        return narrowed
    if retargeted := _retargeted(intent, turns, today):
        return retargeted
    if dated := _day_meant(intent, today):
        return dated
    if isinstance(intent, AddIntent) and (named := _add_what_was_missing(intent, turns, today)):
        return named
    continues_add = isinstance(intent, OfferAddIntent) or intent == ReplyIntent("unclear")
    if intent == ReplyIntent("unclear") and (dated := _dated_after_a_change(turns, today)):
        return dated
    if continues_add and (added := _added_more(intent, turns, today)):
        return added
    if continues_add and (fixed := _fixed_wording(turns, today)):
        return fixed
    if not isinstance(intent, ReplyIntent | OfferAddIntent):
        return intent
    previous = understand(turns[:-1], today)  # once: each reading of a turn reads the turns before it
    reply = strip_fillers(normalize(turns[-1].user_text))[0]
    if continues_add and previous == ReplyIntent("need_title") and not _HEDGE_RE.match(reply):  # we asked what
        todos = new_todos(reply, today)
        return AddIntent(todos) if todos else intent
    if (
        isinstance(intent, OfferAddIntent)
        and _ALSO_RE.search(turns[-1].user_text)
        and (again := _continued(previous, turns))
    ):
        return again  # "get rid of the garage one" - "and update cv too": another delete, not an offer to add
    if not isinstance(intent, ReplyIntent):
        return intent
    if isinstance(previous, intents.MultiIntent):  # the one action of several that our answer asked about
        previous = _asked_about(previous, turns[-2].answer or "")
    if turns[-2].asked_to_approve and _YES_RE.match(normalize(turns[-1].user_text)):
        # The service answers a "yes" to a waiting request itself; one that reaches us found nothing waiting.
        return ReplyIntent("approval_gone")
    if isinstance(previous, OfferAddIntent) and (turns[-2].answer or "").rstrip().endswith("?"):
        return AddIntent(previous.todos) if _YES_RE.match(normalize(turns[-1].user_text)) else ReplyIntent("declined")
    if intent.kind != "unclear":
        return intent
    if not isinstance(previous, ChangeIntent):
        return intent
    message = normalize(turns[-1].user_text)
    if previous.action == "status" and (asked := _ASKED_AGAIN_RE.match(message)):
        return ChangeIntent("status", (Choice(changes.clean_ref(asked["ref"])),))  # "and the electrician?"
    reply, _ = strip_fillers(message)
    if (only := _ONLY_RE.match(message.rstrip(" .!"))) and not turns[
        -2
    ].changed:  # "no, just the receipts one" to our question
        return ChangeIntent(previous.action, (Choice(changes.clean_ref(only["ref"]), previous.choices[0].value),))
    if (turns[-2].answer or "").rstrip().endswith("?"):
        if previous.action == "due" and (day := date_value(reply, today)):  # we asked when it is due
            return replace(previous, choices=tuple(replace(c, value=day.isoformat()) for c in previous.choices))
        return ChangeIntent(previous.action, (Choice(reply),), follow_up_of=previous)
    if _BOTH_OF_THEM_RE.match(message.rstrip(" .!")) and turns[-2].changed and previous.action in _CONTINUABLE:
        # "anything about the car?" - "delete the service one" - "both of them actually": the two shown
        return ChangeIntent(previous.action, (Choice("both of them", previous.choices[0].value),))
    return _continued(previous, turns) or intent


def _narrowed_approval(turns: Sequence[Turn], today: date | None) -> ChangeIntent | None:
    """ "just the second one", "yes but only the milk" to our question before changing several: the service took
    it for a no (nothing runs on a half-yes); it asks for the change to the todos it names alone, positions
    counting in the question's list (`references.shown_list`)."""
    said = sentences(normalize(turns[-1].user_text))  # "Only the first two, please. I'd like to keep the third."
    if not turns[-2].asked_to_approve or not said or not (only := _ONLY_RE.match(said[0].rstrip(" .!"))):
        return None
    previous = understand(turns[:-1], today)
    if isinstance(previous, intents.MultiIntent):
        previous = _asked_about(previous, turns[-2].answer or "")
    if not isinstance(previous, ChangeIntent | intents.BulkIntent):
        return None
    value = previous.choices[0].value if isinstance(previous, ChangeIntent) else None
    return ChangeIntent(previous.action, (Choice(changes.clean_ref(only["ref"]), value),))


_ASKED_AGAIN_RE = re.compile(r"^(?:and|(?:and )?(?:what|how) about)\s+(?P<ref>.+?)[?!. ]*$", re.I)
"""The question just answered, asked of another todo: "when's the dentist?" - "and the other appointment?"."""
_BOTH_OF_THEM_RE = re.compile(
    r"^(?:(?:actually|oh|no|nah|wait|sorry|hmm|erm|um)\W+)*both(?: of (?:them|those|these))?"
    r"(?:,?\s+(?:actually|then|please|pls|in fact))*$",
    re.I,
)


def _continued(previous: Intent, turns: Sequence[Turn]) -> ChangeIntent | None:
    """ "and the milk too": the change just made, made again to another todo."""
    message = normalize(turns[-1].user_text)
    if not isinstance(previous, ChangeIntent) or previous.action not in _CONTINUABLE or not turns[-2].changed:
        return None
    if not _CONTINUATION_RE.search(message):
        return None
    reply = _CONTINUATION_RE.sub("", strip_fillers(message)[0])  # "same for the other bill": the other bill
    return ChangeIntent(previous.action, (Choice(changes.clean_ref(reply), previous.choices[0].value),))


_DATED_RE = re.compile(
    r"^(?:(?:and|n|&|oh|ok|okay|so|also)\s+)*"
    r"(?:(?P<many>they|them(?: all)?|both(?: of them)?|all(?: (?:two|three|four|five|of them))?|those|these)"
    r"|(?P<one>it|its|that|this)\s*)?"
    r"(?:\s*(?:is|are|should be|need to be|needs to be|will be)\s+)?"
    r"(?:(?:put|set|make|schedule)\s+(?:it|them(?: all)?)\s+(?:down\s+)?|due\s+)?"
    r"(?P<date>.+?)(?:\s+(?:please|pls|thanks|then|too|as well))*$",
    re.I,
)


def _dated_after_a_change(turns: Sequence[Turn], today: date | None) -> ChangeIntent | None:
    """ "add milk, eggs and bread" - "all three by COB Thursday" (or "by friday please", "n its for tmrw"):
    a message that is only a date, right after todos were added or changed, dates them."""
    if not turns[-2].changed or turns[-2].ran("delete_todo"):
        return None
    match = _DATED_RE.match(expand(strip_fillers(normalize(turns[-1].user_text))[0]).rstrip(" .!"))
    if match is None or not (day := date_value(match["date"], today)):
        return None
    several = match["many"] or (not match["one"] and len(turns[-2].changed) > 1)
    pointer = "both" if re.search(r"\bboth\b", match[0], re.I) else "them" if several else "it"  # both: two turns'
    return ChangeIntent("due", (Choice(pointer, day.isoformat()),))


def _asked_about(intent: intents.MultiIntent, answer: str) -> Intent:
    """The change whose reference our answer quoted in its question ("which one?"), else the whole."""
    for part in intent.parts:
        if not isinstance(part, ChangeIntent):
            continue
        asked = (f'{lead} "{part.choices[0].ref.lower()}"' for lead in ("matches", "mean by"))
        if any(question in answer.lower() for question in asked):
            return part
    return intent


_FIX_LEAD_RE = re.compile(
    r"^(?:(?:no|nope|sorry|oops|whoops|wait|actually|oh|hang on|hold on|wrong one)\b[\s,!.:;-]+)+(?:i meant\s+)?"
    r"(?P<rest>.+)$",
    re.I,
)
_UNCLEAR = ReplyIntent("unclear")
_RETARGET_CUE_RE = re.compile(r"\bwrong one\b|,\s*not (?:the )?\w+", re.I)
"""Words that set the todo just changed aside: "wrong one", "it was the milk I bought, not the bread"."""
_IT_WAS_RE = re.compile(r"^(?:it was|it's|it is)\s+(?P<meant>.+?)(?:\s+(?:i|we)\s+\w+)?$", re.I)


def _named_last(meant: str) -> str:
    """ "the other one, the haircut" is the haircut; "the other one - it was tom i emailed, sarah's still to do"
    is tom: the first part that names a todo, not "the other one"."""
    named = named_part(meant)
    return said["meant"] if (said := _IT_WAS_RE.match(named)) else named


def _says_undone(sentence: str, today: date | None) -> bool:
    """A sentence after a correction that only says how the first todo stands ("sarah's still to do", "dentist
    really is done")."""
    intent = parse_intent(sentence, today)
    return isinstance(intent, ReplyIntent) or (isinstance(intent, ChangeIntent) and intent.action in _UNDONE)


def _fixed_wording(turns: Sequence[Turn], today: date | None) -> ChangeIntent | None:
    """ "add buy apples" - "no, pears": a short correction right after an add rewords (or re-dates) it."""
    fix = _FIX_LEAD_RE.match(normalize(turns[-1].user_text))
    if fix is None or not turns[-2].changed or not isinstance(understand(turns[:-1], today), AddIntent):
        return None
    value = fix["rest"].strip(" .!")
    if day := date_value(value, today):
        return ChangeIntent("due", (Choice("that", day.isoformat()),))
    return ChangeIntent("rename", (Choice("that", value, correction=True),)) if len(value.split()) <= 6 else None


_INTERJECTION_RE = re.compile(r"^(?:oh|ah|ok(?:ay)?|right|um+|hmm+|wait)\W+", re.I)
_SAME_DAY_RE = re.compile(r",?\s*(?:on |for |due )?(?:the )?same (?:day|date|time|deadline)(?: too| as well)?", re.I)
_THEN_RE = re.compile(r"\s+(?:then|too|anyway|instead|after all)$", re.I)


def _add_what_was_missing(intent: AddIntent, turns: Sequence[Turn], today: date | None) -> AddIntent | None:
    """ "tick off cancel netflix" (no such todo) - "add it then": the todo that was not there."""
    todo = intent.todos[0]
    if len(intent.todos) > 1 or not PRONOUN_RE.match(_THEN_RE.sub("", todo.title)) or turns[-2].changed:
        return None
    previous = understand(turns[:-1], today)
    if not isinstance(previous, ChangeIntent) or PRONOUN_RE.match(ref := previous.choices[0].ref):
        return None
    return AddIntent((replace(todo, title=clean_title(ref)),))


_HEDGE_RE = re.compile(rf"^(?:{'|'.join(TABLES['small_talk']['hedges'])})\b", re.I)
_MEANT_RE = re.compile(r"\b(?:meant|mean)\b", re.I)
_UNDONE: dict[intents.Action, intents.Action] = {"complete": "reopen", "reopen": "complete"}
_RETARGETED = {*_UNDONE, "delete", "due"}
_PLACE_RE = re.compile(
    rf"^(?:the |number |no\.? ?|#)?(?:\d{{1,3}}(?:st|nd|rd|th)?|{alternation(ORDINALS)})(?: one| todo| item)?$", re.I
)
"""A todo named by its place in the list the user saw: "I meant the 4th"."""
_REF_STOPWORDS = vocab("references", "stopwords")


def _day_meant(intent: Intent, today: date | None) -> ChangeIntent | None:
    """ "sorry, I meant the 4th" after no change it could move to another todo (`_retargeted`): a day of
    the month, not a new title ("Schedule the 4th")."""
    if not (isinstance(intent, ChangeIntent) and intent.action == "rename" and len(intent.choices) == 1):
        return None
    choice = intent.choices[0]
    if not (PRONOUN_RE.match(choice.ref) and changes.ORDINAL_DAY_RE.fullmatch(choice.value or "")):
        return None
    day = date_value(f"on {choice.value}", today)
    return ChangeIntent("due", (Choice(choice.ref, day.isoformat()),)) if day else None


def _retargeted(
    intent: Intent, turns: Sequence[Turn], today: date | None
) -> intents.MultiIntent | intents.UndoIntent | None:
    """ "mark the vet one done" - "no, I meant the dentist one": the change was meant for another todo
    of the list, so it is taken back and made to that one (not a rename of the first to "the dentist one")."""
    text = normalize(turns[-1].user_text)
    first, *told = sentences(text) or [text]  # "no wait, the other one, the haircut. dentist isn't done yet"
    if told and all(_says_undone(sentence, today) for sentence in told):
        text, intent = first, parse_intent(first, today)
    fix = _FIX_LEAD_RE.match(text)
    # "I meant the dentist one" (read as a correction of "that"), "I meant chemistry not physics" (of physics)
    renamed = isinstance(intent, ChangeIntent) and intent.action == "rename" and len(intent.choices) == 1
    # "the optician, not the dentist": a todo of the list meant ("the ..."), not a new wording
    meant_todo = isinstance(intent, ChangeIntent) and renamed and (intent.choices[0].value or "").lower()[:4] == "the "
    if isinstance(intent, ChangeIntent) and renamed and (_MEANT_RE.search(text) or meant_todo):
        meant = intent.choices[0].value or ""
    elif fix and not _CONTINUATION_RE.search(fix["rest"]) and (intent == _UNCLEAR or _RETARGET_CUE_RE.search(text)):
        meant = strip_fillers(fix["rest"])[0]  # "no, the dentist one"; "oh and the vocab too" continues instead
        if instead := changes.NOT_THIS_BUT_RE.match(meant):  # "oops my bad, not the laundry - it was the dishes I did"
            meant = instead["new"]
        meant = _named_last(meant)
    else:
        return None
    previous = understand(turns[:-1], today)
    if not isinstance(previous, ChangeIntent) or previous.action not in _RETARGETED or not (done := turns[-2].changed):
        return None
    others = [todo for todo in turns[-2].listing() if todo.id not in {changed.id for changed in done}]
    if other := OTHER_RE.match(changes.clean_ref(meant)):  # "no wait, I meant the other one"
        if len(candidates := the_others(other["kind"], done, others)) != 1:
            return None
        meant = f'"{candidates[0].title}"'
    wanted = key_words(meant, _REF_STOPWORDS) - WEAK_STEMS
    named = any(same_word(w, o) for todo in others for w in wanted for o in key_words(todo.title, set()))
    if not (_PLACE_RE.match(changes.clean_ref(meant)) or (wanted and named)):
        return None
    redone = ChangeIntent(previous.action, (Choice(changes.clean_ref(meant), previous.choices[0].value),))
    if previous.action not in _UNDONE:  # a deleted todo comes back whole, a moved date as it was: the change log
        return intents.UndoIntent(then=redone)
    taken_back = ChangeIntent(_UNDONE[previous.action], tuple(Choice(f'"{todo.title}"') for todo in done))
    return intents.MultiIntent((taken_back, redone))


def correction(message: str, today: date | None) -> Choice | None:
    """The new wording a message corrects a todo's title with, read from it alone ("not baguette,
    croissants", "that should say Sandra", "no, limes"), or None."""
    intent = parse_intent(message, today)
    if isinstance(intent, ChangeIntent) and intent.action == "rename" and intent.choices[0].correction:
        return intent.choices[0]
    fix = _FIX_LEAD_RE.match(normalize(message))
    value = fix["rest"].strip(" .!") if fix else ""
    if not value or len(value.split()) > 6 or date_value(value, today):
        return None
    return Choice("that", value, correction=True)


DEFAULT_PAGE = 50
"""What `list_todos` returns when no limit is given."""


def _next_page(intent: intents.ListIntent, turns: Sequence[Turn], today: date | None) -> intents.ListIntent:
    """ "Next page" after a list: the same filter, from where the last page shown ended."""
    for index in reversed(range(len(turns) - 1)):
        if not turns[index].is_listing:
            continue
        shown = understand(turns[: index + 1], today)
        if not isinstance(shown, intents.ListIntent):
            continue  # a listing to find a todo to change, not to show
        size = intent.limit or shown.limit
        if intent.page is not None:
            offset = (intent.page - 1) * (size or DEFAULT_PAGE)
        else:
            offset = (shown.offset or 0) + len(turns[index].listing())
        return replace(shown, limit=size or DEFAULT_PAGE, offset=offset, more=False, page=None)
    return intents.ListIntent(limit=intent.limit)  # nothing shown yet: show the list


def _added_more(intent: Intent, turns: Sequence[Turn], today: date | None) -> AddIntent | None:
    """ "add apples" - "and pears": more of the same kind, right after an add."""
    message = _INTERJECTION_RE.sub("", normalize(turns[-1].user_text))  # "oh, and also ..."
    if not _CONTINUATION_RE.search(message) or not turns[-2].changed:
        return None
    if not isinstance(previous := understand(turns[:-1], today), AddIntent):
        return None
    body, _ = strip_fillers(strip_all(_CONTINUATION_RE, message, " ,.!"))
    if same := _SAME_DAY_RE.search(body):  # "and renew gym membership, same day": the day of the todo before
        body = f"{body[: same.start()]}{body[same.end() :]}".strip(" ,")
        todos = new_todos(f"{previous.todos[-1].title}, {body}", today)[1:]
        dated = tuple(replace(todo, due_date=previous.todos[-1].due_date) for todo in todos)
        return AddIntent(dated) if dated else None
    if isinstance(intent, OfferAddIntent):
        return AddIntent(intent.todos)
    if not body or parse_small_talk(body):  # not "thanks too"
        return None
    todos = new_todos(f"{previous.todos[-1].title}, {body}", today)[1:]  # "buy milk" - "and eggs": "Buy eggs"
    return AddIntent(todos) if todos else None
