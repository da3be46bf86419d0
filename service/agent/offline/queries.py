"""Reading questions and list-wide requests: what the user knows about themselves, "show my list"
(filters, due windows, pages) and "everything at once" (clear, complete or reopen all), each judged by
its table of words, since people phrase these a hundred ways."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import get_args

from service.agent.offline.conversation import Todo
from service.agent.offline.dates import ANY_DAY, date_value, find_window
from service.agent.offline.intents import BulkIntent, ContextIntent, ListIntent, ReplyIntent, Topic
from service.agent.offline.text import NUMBER_WORDS, alternation, number
from service.agent.offline.vocabulary import DONE_RE, TABLES, vocab
from service.matching import key_words, same_word, words

# --- user context -------------------------------------------------------------------------------

_PROFILE_CHANGE_RE = re.compile("|".join(TABLES["profile"]["change"]), re.I)
"""Changing the profile or the account, which is not ours to do."""
_TOPIC_RES = {topic: re.compile("|".join(TABLES["profile"][topic]), re.I) for topic in get_args(Topic)}
"""What each question about the user asks for; one that asks for several gets "all"."""


def parse_profile(text: str) -> ContextIntent | ReplyIntent | None:
    """Questions about the user (name, timezone, preferences, today); changing them is not ours to do."""
    if _PROFILE_CHANGE_RE.search(text):
        return ReplyIntent("profile")
    topics = [topic for topic, pattern in _TOPIC_RES.items() if pattern.search(text)]
    if not topics:
        return None
    return ContextIntent(topics[0] if len(topics) == 1 else "all")


# --- bulk and list: judged by the bag of words, since people phrase these a hundred ways ---------

_DELETE_WORDS = vocab("delete", "bulk")
_COMPLETE_WORDS = vocab("complete", "bulk")
_REOPEN_WORDS = vocab("reopen", "bulk")
DONE_WORDS = vocab("complete", "done")
_OPEN_WORDS = vocab("reopen", "open")
_ASKING_WORDS = vocab("list", "asking")
_NEGATIONS = vocab("list", "negations")
_SCOPE_WORDS = vocab("bulk", "scope")
GENERIC_WORDS = vocab("bulk", "generic")
_BULK_VOCAB = (
    _DELETE_WORDS | _COMPLETE_WORDS | _REOPEN_WORDS | DONE_WORDS | _OPEN_WORDS | GENERIC_WORDS | vocab("bulk", "filler")
)
FRESH_START_RE = re.compile(rf"^(?:{'|'.join(TABLES['delete']['fresh_start'])})$", re.I)
"""A fresh start is a cleared list (and a bulk delete asks first where approvals are on)."""


def parse_bulk(text: str) -> BulkIntent | None:
    """ "clear completed", "mark everything done", "delete all my todos", "reopen all"."""
    if FRESH_START_RE.match(text):
        return BulkIntent("delete", None)
    tokens = words(text)
    bag = set(tokens)
    if not bag <= _BULK_VOCAB or not tokens or tokens[0] in _ASKING_WORDS or "show" in bag:
        return None
    if re.search(r"\blist (?:one|item|todo|task)\b", text, re.I):
        return None  # "delete the shopping list one": a todo called that, not the list
    if bag & {"it", "that", "this"} and not bag & _SCOPE_WORDS:
        return None  # "ok delete it, already sorted": one todo, told done
    if ABOUT_IT_RE.search(text):
        return None  # "delete everything to do with it": the todos about what was just said, not the whole list
    scoped = bool(bag & _SCOPE_WORDS)
    if bag & _DELETE_WORDS and (scoped or bag & (DONE_WORDS | _OPEN_WORDS) or "list" in bag):
        return BulkIntent("delete", _bulk_delete_filter(bag))
    if scoped and (bag & _REOPEN_WORDS or ("not" in bag and bag & DONE_WORDS)):
        return BulkIntent("reopen", True)
    if scoped and (bag & _COMPLETE_WORDS or (bag & DONE_WORDS and bag & {"everything", "todos", "tasks", "i", "them"})):
        return BulkIntent("complete", False)
    return None


ABOUT_IT_RE = re.compile(
    r"(?P<group>\b(?:everything|all(?: (?:the|my))?(?: \w+)?) "
    r"(?:to do with|about|related to|relating to|concerning|regarding|involving|for))\s+(?:it|that|this|them)\b",
    re.I,
)
"""The todos about what was just said ("delete everything to do with it"), never the whole list."""
_EXCEPT_RE = re.compile(
    rf"\s*,?\s+(?:{'|'.join(TABLES['bulk']['except'])})\s+(?P<keep>.+?)\s*(?=[,;.!?]|\s-+\s|$)", re.I
)
_KEEP_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+", re.I)


def split_exception(text: str) -> tuple[str, tuple[str, ...]] | None:
    """ "delete everything except the passport one, ..." -> ("delete everything, ...", ("the passport one",))."""
    if not (match := _EXCEPT_RE.search(text)):
        return None
    keep = tuple(ref for ref in _KEEP_SPLIT_RE.split(match["keep"]) if ref.strip())
    return f"{text[: match.start()]}{text[match.end() :]}", keep


def _bulk_delete_filter(bag: set[str]) -> bool | None:
    """Which todos a bulk delete means: done ones ("clear completed", "clean up"), open ones, or all."""
    if (bag & DONE_WORDS and not bag & _NEGATIONS) or bag & {"clean", "tidy"}:
        return True
    if bag & _OPEN_WORDS or bag & DONE_WORDS:
        return False
    return None


TOPICS: dict[str, list[str]] = TABLES["list"]["topics"]
"""Kinds of todo a list question may ask about, each with the words its todos say."""
_LIST_SIGNALS = vocab("list", "signals")
_LIST_VOCAB = _LIST_SIGNALS | GENERIC_WORDS | vocab("list", "words")
_INCLUSIVE_WORDS = {"including", "include", "incl"}
_PENDING_WORDS = vocab("list", "pending")
_POINTING = vocab("remarks", "pointing")


_ONE_OF_THEM_RE = re.compile(
    r"(?:\b(?:the|that|this)(?: \w+)?|^\W*(?!which\b|what\b|any\b|no\b|every\b|some\b)\w+) one"
    r"(?: (?:due|for|about|from|with|on)\b[^?]*?)?(?:'s| is)\b",
    re.I,
)
_SOME_OF_THEM_RE = re.compile(
    rf"^(?:the )?(?:first|last|top|bottom) (?:\d{{1,2}}|{alternation(NUMBER_WORDS)})(?: ones)?"
    rf"(?:'re|'s| are| is| were)? (?:all |both |now |already )*(?:{DONE_RE})(?: now| already| too)?[.!]*$",
    re.I,
)
"""Todos of the list shown, told done: "the first two are done" changes them, it asks for no list."""
_LIMIT_RE = re.compile(
    rf"\b(?:just |only )?(?:the )?(?:(?:first|top) (?P<first>\d{{1,3}}|{alternation(NUMBER_WORDS)})"
    r"|(?P<bare>\d{1,3})(?= (?:\w+ )?(?:todos?|tasks?|items?|things|ones|entries)\b))\b",
    re.I,
)
_MORE_RE = re.compile(
    r"^(?:(?:show|list|give|display|see|get|read)(?: me| us)? )?(?:the |some )?"
    rf"(?:next(?: page| (?P<count>\d{{1,3}}|{alternation(NUMBER_WORDS)}))?|more|(?:the )?rest|page (?P<page>\d{{1,3}}))"
    r"(?: (?:of )?(?:them|the list|my list|my todos|todos|tasks|items|ones|results|page))?"
    r"|^(?:keep going|continue|go on|carry on)$",
    re.I,
)


def parse_more(text: str) -> ListIntent | None:
    """ "next page", "show me more", "the next 5", "page 3": more of the list shown last."""
    if not (match := _MORE_RE.fullmatch(text.rstrip(" .!?"))):
        return None
    return ListIntent(more=True, limit=_count(match["count"]), page=int(match["page"]) if match["page"] else None)


def _count(text: str | None) -> int | None:
    return number(text) if text else None


_COMMANDS = vocab("small_talk", "commands")
"""Words a misspelling may have been corrected to ("what more" read as "what move"): no search for them."""
_SEARCH_RES = tuple(re.compile(pattern, re.I) for pattern in TABLES["list"]["search"])


def parse_search(text: str) -> ListIntent | None:
    """ "anything about the dentist on there?", "what car stuff do I have?": the todos about something."""
    for pattern in _SEARCH_RES:
        if match := pattern.match(text.rstrip(" ?.!")):
            what = match["what"].strip(" \"'")
            if re.search(r"[.!?]\s", what):
                return None  # "anything to do with the car? the tyres one is done": a question, then a deed
            # "anything with a due date?", "anything on my list?" ask for the list itself
            generic = _LIST_VOCAB | _COMMANDS | {"date", "deadline", "more", "else", "other", "others"}
            if (
                (set(words(what)) <= generic and what.lower() not in TOPICS)
                or _UNDATED_RE.search(what)
                or date_value(what, ANY_DAY)
            ):
                return None  # "anything for the weekend?" asks for a date: the list reads it
            # "which bills have I still got to pay?", "what car stuff is left?": the open ones
            return ListIntent(completed=False if set(words(text)) & _OPEN_WORDS else None, search=what)
    return None


_GROUP_RE = re.compile(
    r"^(?:everything|every (?:todo|task|item|one|thing)|all(?: of)?|both(?: of)?"
    r"|(?P<one>the (?:one|todo|task|item|thing)))"
    r"(?P<which>(?: \S+)+)$",
    re.I,
)
_DAYS_OWN_RE = re.compile(r"^(?P<day>(?:to|yester)day|tomorrow|tonight|\w+day)'s (?:todo|task|one|thing|item)$", re.I)
_GROUP_KIND_RE = re.compile(  # "all the party stuff": the todos about a party
    r"^(?:the |my )?(?P<what>.+?) (?:stuff|things|ones|tasks|todos|items|jobs|bits)$", re.I
)


def parse_group(reference: str, today: date | None) -> ListIntent | None:
    """A reference to the todos a list question would show: "everything to do with the party", "all my open
    tasks", "everything that's overdue", "all the party stuff" (`answers.members` picks them). None for a
    reference that narrows nothing ("all of them", "everything"): those are the pronouns' and bulk's."""
    if owned := _DAYS_OWN_RE.match(reference.strip()):  # "thursday's todo" is the one due thursday
        reference = f"the one due {owned['day']}"
    if re.search(r"\s(?:and|&)\s", reference) and _GROUP_KIND_RE.match(reference.strip()):
        return None  # "the christmas lights and the wreath ones", "the bread and oat milk ones": each named
    if re.match(r"(?:the|my)\s", reference.strip(), re.I) and _GROUP_KIND_RE.match(reference.strip()):
        # "the party stuff" names several, as "all the party stuff" does
        reference = f"all {reference.strip()}"
    if not (match := _GROUP_RE.match(reference.strip())):
        return None
    which = match["which"].strip()
    intent = parse_list(f"show all {which}", today) or parse_search(f"anything {which}")
    if intent is None and (kind := _GROUP_KIND_RE.match(which)):
        intent = parse_search(f"anything about {kind['what']}")
    if intent is None:
        return None
    if match["one"]:  # "the one due tomorrow": only a date or a topic tells one todo
        return replace(intent, limit=1) if intent.search or intent.due_until else None
    narrowed = intent.search or intent.undated or intent.due_until or intent.completed is not None
    return intent if narrowed else None


_STOPWORDS = vocab("references", "stopwords")
OTHER_RE = re.compile(r"^(?:the |that )?other(?: (?P<kind>(?!one\b)\w+))?(?: one| todo| task)?$", re.I)
"""The other one of a pair: "the other one", "the other bill"."""


def named_part(text: str) -> str:
    """The part that names a todo when "the other one" comes with its name: "the other one, the haircut",
    "the other one - sarah"; `text` itself when it has no such parts."""
    parts = [part for part in re.split(r"\s*[,;]\s*|\s+-+\s+", text) if part]
    return next((part for part in parts if not OTHER_RE.match(part)), text) if len(parts) > 1 else text


def the_others(kind: str | None, meant: Sequence[Todo], todos: Sequence[Todo]) -> list[Todo]:
    """The todos "the other one" may mean beside `meant` (those just talked about): the ones that share a word
    with them ("Pay water bill" beside "Pay electricity bill"), or that say `kind` ("the other bill")."""
    told = {todo.id for todo in meant}
    like = set(key_words(kind, set())) if kind else {w for todo in meant for w in key_words(todo.title, _STOPWORDS)}
    shared = {
        todo.id: sum(any(same_word(w, o) for o in key_words(todo.title, _STOPWORDS)) for w in like)
        for todo in todos
        if todo.id not in told
    }
    most = max(shared.values(), default=0)  # "Pay water bill" shares more with "Pay electricity bill" than "Pay rent"
    return [todo for todo in todos if most and shared.get(todo.id) == most]


def parse_list(text: str, today: date | None) -> ListIntent | None:
    """ "what's left", "show my todos", "show me the first 10", "anything due tomorrow?"."""
    if (more := parse_more(text)) is not None:
        return more
    if _ALL_DONE_ASKED_RE.match(text):
        return ListIntent(completed=False)  # "have I finished everything?" is answered by what is still open
    if _ONE_OF_THEM_RE.search(text) or _SOME_OF_THEM_RE.match(text):  # "the top one's done" tells of a todo
        return None
    if not (limit := _LIMIT_RE.search(text)):
        return _parse_list_words(text, today)
    rest = f"{text[: limit.start()]} {text[limit.end() :]}"
    intent = _parse_list_words(rest, today)
    count = _count(limit["first"] or limit["bare"])
    if intent is None and count and count > 1 and set(words(rest)) <= _PAGE_ONLY:
        intent = ListIntent()  # "just the first 4 please": a page of the list ("the first one" is a todo)
    return replace(intent, limit=count) if intent and count else intent


_PAGE_ONLY = vocab("list", "page_only")
_ALL_DONE_ASKED_RE = re.compile(
    r"^(?:(?:have|did|am|are) (?:i|we) (?:finished|done|completed|do|finish|complete|got through|gotten through)"
    r"(?: with)?|(?:is|are) (?:it|they)) "
    r"(?:everything|it all|all of (?:it|them)|all my (?:todos|tasks|stuff)|the lot|all)"
    r"(?: done| finished| sorted)?(?: yet| now| then)?[?!. ]*$"
    r"|^(?:is|are) (?:everything|it all|all of (?:it|them)|all my (?:todos|tasks)) (?:done|finished|sorted)"
    r"(?: yet| now)?[?!. ]*$",
    re.I,
)
_TOLD_DONE_RE = re.compile(
    r"^\W*(?:ok(?:ay)?\W+)?(?:done|finished|did|completed)\s+(?:with\s+)?(?:it|that|this)\b", re.I
)
_UNDATED_RE = re.compile("|".join(TABLES["list"]["undated"]), re.I)


def _parse_list_words(text: str, today: date | None) -> ListIntent | None:
    undated = _UNDATED_RE.search(text)
    if undated:  # "which ones don't have a date yet?": the todos with none
        text = f"{text[: undated.start()]} {text[undated.end() :]}"
    window = None
    if not set(words(text)) <= _LIST_VOCAB and (window := find_window(text, today)):
        text = f"{text[: window.start]} {text[window.end :]}"  # "anything due in december?": the days asked about
    tokens = words(re.sub(r"\bto[- ]do\b(?=[- ]?(?:list|items?)\b)|\bto-do\b", "todo", text, flags=re.I))
    bag = set(tokens)
    asks_what = bool(bag & {"what", "which"} and bag & {"have", "need", "got", "do", "did", "should", "next", "on"})
    if not tokens or tokens[0] in {"it", "that", "this", "these", "those", "they"}:  # "that's done" is about a todo
        return None
    if _TOLD_DONE_RE.match(text):
        return None  # "done that already", "done with that one" tell of a todo
    if bag & {"them", "those", "these"} and not bag & {"show", "list", "what", "which", "how"}:
        return None  # "all of them are done now" tells, about the todos just seen
    if tokens[0] in {"i", "we"} and not bag & {"what", "which", "how", "show", "anything", "list"}:
        return None  # "I finished" is a statement, not a question
    if undated and bag <= _LIST_VOCAB and tokens[0] in _ASKING_WORDS | {"any", "anything"} and not bag & _POINTING:
        return ListIntent(completed=False, undated=True)  # not "no due date on that one", which changes a todo
    asks_when = window is not None and bool(bag & {"what", "which", "anything", "any"})  # "what's due friday?"
    if not bag <= _LIST_VOCAB or not (
        bag & _LIST_SIGNALS or asks_what or asks_when or ("how" in bag and "many" in bag)
    ):
        return None
    phrase = " ".join(tokens)
    if topic := next((word for word in tokens if word in TOPICS), None):  # "what shopping have I got left?"
        return ListIntent(completed=False if bag & _OPEN_WORDS else None, search=topic)
    # "is everything done?", "did I finish everything?": show what is not
    negated = bool(bag & _NEGATIONS) or tokens[0] in {"is", "are"} or (tokens[0] == "did" and "everything" in bag)
    if bag & _INCLUSIVE_WORDS:  # "all my todos, including the done ones"
        return ListIntent()
    if bag & DONE_WORDS and not negated and not bag & _OPEN_WORDS and " to do" not in phrase:
        return ListIntent(completed=True)
    pending = bool(bag & (_OPEN_WORDS | DONE_WORDS | _PENDING_WORDS) or " to do" in phrase or bag & {"due", "overdue"})
    if window:
        return ListIntent(False, window.first, window.last, window.label)
    if due := _due_window(bag, phrase, today):
        return ListIntent(False, *due)
    return ListIntent(completed=False if pending else None)


def _due_window(bag: set[str], phrase: str, today: date | None) -> tuple[date | None, date, str] | None:
    """The due-date range a list question asks about: (from, until, label) or None for all dates."""
    if today is None:
        return None
    sunday = today + timedelta(days=6 - today.weekday())
    past_due = re.search(r"\bpast (?:due\b|(?:its|the|their) (?:deadline|due date))", phrase)
    if bag & {"overdue", "late", "missed", "behind"} or past_due:
        return None, today - timedelta(days=1), "overdue"
    if "next few days" in phrase or "coming days" in phrase:
        return None, today + timedelta(days=3), "in the next few days"
    if bag & {"tomorrow", "tmrw", "tmr"}:
        tomorrow = today + timedelta(days=1)
        return tomorrow, tomorrow, "tomorrow"
    if "next week" in phrase:
        return sunday + timedelta(days=1), sunday + timedelta(days=7), "next week"
    if "week" in bag:
        return None, sunday, "this week"
    if bag & {"today", "tonight"}:
        return None, today, "today"
    return None
