"""The offline model: a deterministic stand-in for an LLM that drives the todo tools.

It is the embedded default when no API key is configured, the fallback that finishes a turn when the
real provider fails, and a baseline in evals. So it behaves like a model rather than a command
parser: on every call it re-reads the conversation (history, the latest user message and the tool
calls this turn has already made), decides the single next step - tool calls, or the final answer -
and returns it through the SDK's `Model` interface. It keeps no state between calls, which is what
lets it take over a turn half-way through, from another model's tool calls.

It never guesses with data: a todo is changed only when the user's words pick it out of the list
that `list_todos` returned this turn, and answers are written from tool outputs, not assumed.

Same input, same output: no randomness and no clock ("today" is the `Current date:` line that the
runtime appends to the instructions).

The module reads top to bottom: text and dates, intent parsing (pure functions of the user's
words), the conversation as the model sees it, reference resolution, planning the next step,
writing answers, and the `Model` adapter with its Responses stream events.
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Any, Literal

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from agents.tracing import generation_span
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

MODEL_NAME = "offline"
MAX_MESSAGE_CHARS = 1000
"""Longer messages get a polite "too long": nothing that size is one todo request, and acting on a
fragment of it would be a guess."""

# ----------------------------------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------------------------------

_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})

_CONTRACTIONS = (
    (re.compile(r"\b(ca)n'?t\b", re.I), r"\1n not"),
    (re.compile(r"\bwon't\b", re.I), "will not"),
    (re.compile(r"\b(\w+)n't\b", re.I), r"\1 not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|have|has|had|should|could|would)nt\b", re.I), r"\1 not"),
    (re.compile(r"\bi'?m\b", re.I), "i am"),
    (re.compile(r"\b(i|we|you|they)'ve\b|\b(i|we)ve\b", re.I), r"\1\2 have"),
    (re.compile(r"\b(i|we|you|they)'ll\b", re.I), r"\1 will"),
    (re.compile(r"\b(i|we|you|they)'d\b", re.I), r"\1 would"),
    (
        re.compile(r"\b(it|that|this|what|there|here|everything|nothing|something|who|which|where)'?s\b", re.I),
        r"\1 is",
    ),
)

_WORD_RE = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """One spelling of quotes, dashes and spaces, so the patterns below need not care."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


def expand(text: str) -> str:
    """Spell contractions out ("isn't" -> "is not") so one pattern covers both ways of writing.

    Titles are taken from the unexpanded text, so they keep the user's spelling.
    """
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


_IRREGULAR = {
    "bought": "buy", "brought": "bring", "caught": "catch", "taught": "teach", "paid": "pay",
    "sent": "send", "spent": "spend", "lent": "lend", "built": "build", "wrote": "write",
    "written": "write", "made": "make", "took": "take", "taken": "take", "went": "go", "gone": "go",
    "did": "do", "done": "do", "ate": "eat", "eaten": "eat", "sold": "sell", "told": "tell",
    "fed": "feed", "found": "find", "gave": "give", "given": "give", "met": "meet", "ran": "run",
    "saw": "see", "seen": "see", "spoke": "speak", "spoken": "speak", "drove": "drive",
    "driven": "drive", "rode": "ride", "kept": "keep", "got": "get", "gotten": "get",
    "swept": "sweep", "threw": "throw", "thrown": "throw", "wore": "wear", "hung": "hang",
    "dug": "dig", "chose": "choose", "began": "begin", "held": "hold", "knew": "know", "sat": "sit",
    "slept": "sleep", "stood": "stand", "won": "win", "sang": "sing", "swam": "swim", "flew": "fly",
    "drew": "draw", "drank": "drink", "read": "read", "put": "put", "set": "set", "shut": "shut",
}  # fmt: skip


def stem(word: str) -> str:
    """A crude stemmer that makes "bought"/"buy", "called"/"call" and "eggs"/"egg" meet.

    Both the user's words and the titles go through it, so its mistakes ("speed" -> "spe") cancel out.
    """
    word = word.lower()
    base = _IRREGULAR.get(word) or _strip_suffix(word)
    return base[:-1] if len(base) > 3 and base.endswith("e") else base


def _strip_suffix(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if not word.endswith(suffix) or len(word) - len(suffix) < 3 or word.endswith("ss"):
            continue
        base = word[: -len(suffix)] + replacement
        if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
            base = base[:-1]  # "shopping" -> "shop", but "called" -> "call"
        return base
    return word


def same_word(a: str, b: str) -> bool:
    """Equal stems, or a likely typo of a longer word ("grocries" for "groceries")."""
    return a == b or (min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= 0.8)


def quoted(titles: Sequence[str], conjunction: str = "and") -> str:
    """`"A", "B" and "C"`."""
    return join_items([f'"{title}"' for title in titles], conjunction)


def join_items(items: Sequence[str], conjunction: str = "and", limit: int = 10) -> str:
    """`A, B and C`, cut to `limit` items so a bulk answer stays readable."""
    shown = list(items[:limit])
    if len(items) > limit:
        return f"{', '.join(shown)} {conjunction} {len(items) - limit} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} {conjunction} {shown[-1]}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ----------------------------------------------------------------------------------------------
# Dates
# ----------------------------------------------------------------------------------------------

_DATE_LINE_RE = re.compile(r"Current date:\s*(\d{4}-\d{2}-\d{2})")
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "thursday": 3,
    "thurs": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_DAYS_AHEAD = {"day after tomorrow": 2, "tomorrow": 1, "tmrw": 1}  # "today", "tonight", ...: 0
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3}  # fmt: skip
_MONTH_RE = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_COUNT_RE = "|".join(sorted((re.escape(c) for c in _COUNTS), key=len, reverse=True))
_DATE_RE = re.compile(
    r"(?P<prep>\b(?:due (?:on |by )?|(?:on|by|for|before|until|till) ))?"
    r"\b(?:(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<rel>day after tomorrow|tomorrow|tmrw|today|tonight|later today|this (?:morning|afternoon|evening))"
    r"(?: (?:morning|afternoon|evening|night))?"
    r"|(?P<weekend>(?:this |the )?weekend)"
    r"|(?P<nextweek>next week)"
    r"|(?P<endweek>(?:the )?end of (?:the |this )?week)"
    r"|(?P<nextmonth>next month)"
    r"|(?P<endmonth>(?:the )?end of (?:the |this )?month)"
    rf"|in (?P<count>\d+|{_COUNT_RE}) (?P<unit>day|week|fortnight|month)s?"
    rf"|(?P<mod>(?:this )?(?:next|coming) |this )?(?P<weekday>{_WEEKDAY_RE})(?: (?:morning|afternoon|evening|night))?"
    rf"|(?:the )?(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?(?: of)? (?P<month1>{_MONTH_RE})(?:,? (?P<year1>\d{{4}}))?"
    rf"|(?P<month2>{_MONTH_RE}) (?P<day2>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<year2>\d{{4}}))?"
    r")\b",
    re.I,
)


@dataclass(frozen=True)
class DateMatch:
    day: date
    start: int
    end: int


def today_from_instructions(instructions: str | None) -> date | None:
    """Today, from the `Current date:` line the runtime appends to the instructions (never the clock)."""
    match = _DATE_LINE_RE.search(instructions or "")
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def find_date(text: str, today: date | None) -> DateMatch | None:
    """The first phrase in `text` that is clearly a date.

    Weekdays, "1 December" and "the weekend" also occur inside titles ("Friday drinks"), so they
    count only after a preposition ("on Friday", "by 1 Dec"), with "this"/"next", or at the very end.
    """
    end_of_text = len(text.rstrip(" .!?"))
    for match in _DATE_RE.finditer(text):
        day = _date_of(match, today)
        if day is None:
            continue
        needs_anchor = match["weekday"] or match["day1"] or match["month2"] or match["weekend"]
        if needs_anchor and not (match["prep"] or match["mod"] or match.end() == end_of_text):
            continue
        return DateMatch(day, match.start(), match.end())
    return None


def extract_date(text: str, today: date | None) -> tuple[date | None, str]:
    """Split a date phrase off a title: ("call mom tomorrow") -> (tomorrow, "call mom")."""
    found = find_date(text, today)
    if found is None:
        return None, text
    rest = f"{text[: found.start]} {text[found.end :]}"
    return found.day, " ".join(rest.split()).strip(" ,")


def date_value(text: str, today: date | None) -> date | None:
    """`text` read as nothing but a date ("to Friday", "2026-12-01"), else None."""
    text = re.sub(r"^(?:to|for|until|till|on|by|due|as)\s+", "", text.strip(" .!?"), flags=re.I)
    found = find_date(text, today)
    return found.day if found and found.start == 0 and found.end == len(text) else None


def describe_day(iso: str) -> str:
    """ "Wednesday 2026-11-25": the weekday people think in, and the date they can check."""
    try:
        return f"{date.fromisoformat(iso):%A} {iso}"
    except ValueError:
        return iso


def _date_of(match: re.Match[str], today: date | None) -> date | None:
    """The date a `_DATE_RE` match names; relative phrases need today, so None without it."""
    try:
        if match["iso"]:
            return date.fromisoformat(match["iso"])
        if today is None:
            return None
        if match["day1"] or match["day2"]:
            return _calendar_day(match, today)
        return _relative_day(match, today)
    except ValueError:  # "2026-02-30", "31 June"
        return None


def _calendar_day(match: re.Match[str], today: date) -> date:
    month = _MONTHS.index((match["month1"] or match["month2"])[:3].lower()) + 1
    day = int(match["day1"] or match["day2"])
    year = match["year1"] or match["year2"]
    if year:
        return date(int(year), month, day)
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def _relative_day(match: re.Match[str], today: date) -> date:
    weekday = today.weekday()
    if match["rel"]:
        return today + timedelta(days=_DAYS_AHEAD.get(match["rel"].lower(), 0))
    if match["weekend"]:
        return today if weekday == 6 else today + timedelta(days=5 - weekday)
    if match["nextweek"]:
        return today + timedelta(days=7 - weekday)
    if match["endweek"]:
        return today + timedelta(days=(4 - weekday) % 7)
    if match["nextmonth"]:
        return _add_months(today.replace(day=1), 1)
    if match["endmonth"]:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if match["count"]:
        count = int(match["count"]) if match["count"].isdigit() else _COUNTS[match["count"].lower()]
        unit = match["unit"].lower()
        if unit == "month":
            return _add_months(today, count)
        return today + timedelta(days=count * {"day": 1, "week": 7, "fortnight": 14}[unit])
    return _weekday(match, today)


def _weekday(match: re.Match[str], today: date) -> date:
    """ "Friday" is the next Friday after today; "this Friday" may be today; "next Friday" is in next week."""
    target = _WEEKDAYS[match["weekday"].lower()]
    mod = (match["mod"] or "").strip().lower()
    if mod.endswith("next"):
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and mod not in ("this", "this coming"):
        ahead = 7
    return today + timedelta(days=ahead)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ----------------------------------------------------------------------------------------------
# Intents: what the user wants, from their words alone
# ----------------------------------------------------------------------------------------------

Action = Literal["complete", "reopen", "delete", "rename", "due", "describe", "status"]
BulkAction = Literal["complete", "reopen", "delete"]
Topic = Literal["name", "timezone", "preferences", "date", "all"]
ReplyKind = Literal[
    "greeting",
    "thanks",
    "bye",
    "ack",
    "help",
    "unclear",
    "refuse",
    "too_long",
    "need_date",
    "need_title",
    "profile",
    "declined",
]


@dataclass(frozen=True)
class NewTodo:
    title: str
    description: str | None = None
    due_date: str | None = None


@dataclass(frozen=True)
class AddIntent:
    todos: tuple[NewTodo, ...]


@dataclass(frozen=True)
class ListIntent:
    """Show the list; `completed` filters like `list_todos`, the due window narrows what is shown."""

    completed: bool | None = None
    due_from: date | None = None
    due_until: date | None = None
    due_label: str | None = None


@dataclass(frozen=True)
class Choice:
    """One reading of a request: the todo the user means (their words) and the new value, if any.

    "rename go to gym to go swimming" has two readings; the planner keeps the one whose reference
    matches a todo best.
    """

    ref: str
    value: str | None = None


@dataclass(frozen=True)
class ChangeIntent:
    """Do something to todos picked by reference. `tentative` marks a guess from a statement
    ("I bought the milk"), which needs a stronger match; `follow_up_of` is the request this
    message answers our question about ("which one?" - "the second")."""

    action: Action
    choices: tuple[Choice, ...]
    tentative: bool = False
    follow_up_of: ChangeIntent | None = None


@dataclass(frozen=True)
class BulkIntent:
    action: BulkAction
    completed: bool | None


@dataclass(frozen=True)
class UndoIntent:
    pass


@dataclass(frozen=True)
class ContextIntent:
    topic: Topic


@dataclass(frozen=True)
class OfferAddIntent:
    """A bare to-do-like phrase ("call mom"): offer to add it rather than guess; "yes" accepts."""

    todos: tuple[NewTodo, ...]


@dataclass(frozen=True)
class ReplyIntent:
    """Answered without tools: small talk, help, refusals and requests we cannot act on."""

    kind: ReplyKind


Intent = AddIntent | ListIntent | ChangeIntent | BulkIntent | UndoIntent | ContextIntent | OfferAddIntent | ReplyIntent

_OUT_OF_SCOPE_RE = re.compile(
    r"\b(?:other|another|different|all|every) (?:users?|accounts?)\b"
    r"|\b(?:other|another|different) (?:person|people)'?s?\b"
    r"|\b(?:someone|somebody|anyone|anybody|everyone|everybody) else'?s?\b|\b(?:everyone|everybody)'s\b"
    r"|\b(?:his|her|their) (?:todos?|to-?dos?|lists?|tasks?|account|data)\b"
    r"|\b(?!(?:my|today|tomorrow|tonight|yesterday|this|next|last|week|month|year|it|that|what|who|there|here"
    r"|one|let|he|she)'s\b)[\w.-]+'s (?:todos?|to-?dos?|(?:todo |to-do )?lists?|tasks?|account|data|profile)\b"
    r"|\buser[ _-]?(?:id|#|number)\b|\b(?:as|for|of) (?:user|account) \S"
    r"|\blog(?:ged)? ?in as\b|\bimpersonat|\bswitch (?:to )?(?:another |a different )?(?:user|account)\b"
    r"|\b(?:ignore|disregard|forget) (?:all |any |your |the |my |previous |prior |above |these |those )*"
    r"(?:instructions|rules|prompt|guidelines)\b|\bsystem prompt\b|\bdeveloper mode\b|\bjailbreak",
    re.I,
)
_HELP_RE = re.compile(
    r"^(?:help(?: me)?|\?+|what (?:else )?can (?:you|u|i) (?:do|say|ask)(?: you| me| for me| here)?"
    r"|what do you do|how (?:does|do) (?:this|it|you) work|how do i use (?:this|you|it)|what are you"
    r"|who are you|what are your (?:commands|features|capabilities|options)|commands|options|menu"
    r"|how can you help(?: me)?|what is this|instructions|i need help)[?!. ]*$",
    re.I,
)
_GREETING_WORDS = {
    "hi", "hello", "hey", "hiya", "howdy", "yo", "morning", "evening", "afternoon", "good", "day",
    "greetings", "there", "how", "are", "you", "doing", "today", "is", "it", "going", "what", "up", "sup", "s",
}  # fmt: skip
_GREETING_CORE = {"hi", "hello", "hey", "hiya", "howdy", "yo", "morning", "evening", "afternoon", "greetings",
                  "sup", "up", "how"}  # fmt: skip
_THANKS_WORDS = {"thanks", "thank", "thx", "ty", "cheers", "appreciated", "appreciate", "ta"}
_BYE_WORDS = {"bye", "goodbye", "later", "night", "ciao", "cya"}
_ACK_WORDS = _THANKS_WORDS | _BYE_WORDS | {
    "ok", "okay", "k", "kk", "great", "perfect", "awesome", "nice", "cool", "good", "fine", "alright",
    "right", "sure", "got", "it", "sounds", "that", "thats", "all", "is", "no", "nope", "nothing", "else",
    "for", "now", "never", "mind", "nevermind", "forget", "lovely", "brilliant", "excellent", "super",
    "wonderful", "fantastic", "amazing", "wow", "yes", "yep", "yeah", "yay", "done", "you", "so", "much",
    "very", "a", "lot", "see", "ya", "have", "day", "one", "the", "hmm", "i", "am", "we", "are", "s", "m",
    "will", "do", "thumbs", "up", "noted", "understood", "exactly", "correct", "indeed", "mate", "buddy", "pal",
}  # fmt: skip
_LEADING_FILLER_RE = re.compile(
    r"^(?:(?P<greet>hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|morning|greetings)"
    r"(?: there)?|ok(?:ay)?|so|um+|uh+|oh|ah|actually|also|and|now|then|wait|hmm+|sorry|oops|whoops"
    r"|please|pls|plz|kindly|just|quickly|would you mind|(?:can|could|would|will) (?:you|u)(?: please)?"
    r"|i(?:'d| would) like you to|i want you to|go ahead and|let'?s|help me|assistant|bot"
    r"|(?:no|nope|yes|yeah|yep|sure|right|well|alright|great|cool|perfect|thanks|thank you)(?=\s*[,.!;:-]))"
    r"\b[\s,!.:;-]*",
    re.I,
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thank you|thx|for me|now|asap|right now|if you can|if possible|ok|okay))+"
    r"[\s.!?]*$|[\s.!?]+$",
    re.I,
)


def parse_intent(message: str, today: date | None) -> Intent:
    """What the user wants, from their words alone (the conversation is consulted when planning)."""
    text = normalize(message)
    if len(text) > MAX_MESSAGE_CHARS:
        return ReplyIntent("too_long")
    if _OUT_OF_SCOPE_RE.search(text):
        return ReplyIntent("refuse")
    small_talk = parse_small_talk(text)
    if small_talk is not None:
        return small_talk
    request, greeted = strip_fillers(text)
    if not request:
        return ReplyIntent("greeting" if greeted else "unclear")
    return (
        parse_request(request, today)
        or parse_small_talk(request)
        or offer_add(request, today)
        or ReplyIntent("unclear")
    )


def strip_fillers(text: str) -> tuple[str, bool]:
    """("Hi! Could you please add milk, thanks") -> ("add milk", greeted=True)."""
    greeted = False
    while match := _LEADING_FILLER_RE.match(text):
        greeted = greeted or bool(match["greet"])
        text = text[match.end() :]
    while (stripped := _TRAILING_FILLER_RE.sub("", text)) != text:
        text = stripped
    return text.strip(), greeted


def parse_small_talk(text: str) -> ReplyIntent | None:
    """Greetings, thanks, goodbyes, "ok" and help: the whole message is one of those."""
    if _HELP_RE.match(text):
        return ReplyIntent("help")
    ordered = words(expand(text))
    tokens = set(ordered)
    if not tokens or ordered[0] in {"is", "are", "was", "did", "have", "has"}:  # "is it done?" asks something
        return None
    if "done" in tokens and tokens & {"it", "that", "this"}:  # "that's done" completes the todo just discussed
        return None
    if tokens <= _GREETING_WORDS and tokens & _GREETING_CORE:
        return ReplyIntent("greeting")
    if tokens <= _ACK_WORDS:
        if tokens & _THANKS_WORDS:
            return ReplyIntent("thanks")
        return ReplyIntent("bye" if tokens & _BYE_WORDS else "ack")
    return None


def parse_request(text: str, today: date | None) -> Intent | None:
    """A request about the todos, or None when the words fit no request we know.

    Order matters: "add a note to X: ..." edits X rather than adding a todo; "mark X as not done"
    reopens rather than completes; statements ("I bought the milk") come last.
    """
    plain = expand(text)
    return (
        parse_undo(plain)
        or parse_describe(text)
        or parse_add(text, today)
        or parse_profile(plain)
        or parse_bulk(plain)
        or parse_list(plain, today)
        or parse_status(plain)
        or parse_due(plain, today)
        or parse_rename(text, today)
        or _first_ref_match(_REOPEN_RES, "reopen", plain)
        or _first_ref_match(_COMPLETE_RES, "complete", plain)
        or _first_ref_match(_DELETE_RES, "delete", plain)
        or parse_done_statement(plain)
    )


# --- undo ---------------------------------------------------------------------------------------

_UNDO_RE = re.compile(
    r"^(?:undo|revert|reverse|roll ?back|take back|cancel|go back)(?: (?:that|it|this|the last(?: (?:change|action|one"
    r"|thing|step))?|my last (?:change|action)|last(?: change)?|what you (?:just )?did|that change|the change))?$"
    r"|^take (?:that|it) back$|^(?:put|change|set) it back(?: the way it was| how it was| as it was)?$",
    re.I,
)


def parse_undo(text: str) -> UndoIntent | None:
    return UndoIntent() if _UNDO_RE.match(text) and text.lower() != "cancel" else None


# --- add ----------------------------------------------------------------------------------------

_ADD_RE = re.compile(
    r"^(?:(?:add|adding|create|creating|insert|schedule|jot(?: down)?|write down|note down|set up)"
    r"(?: (?:a|an|another|one more|the|some))?(?: new)?(?: (?:todo|to-do|task|item|reminder|entry|note)s?)?"
    r"(?: (?:to|for|that says|saying|called|named|titled|about|of))?"
    r"|(?:make|making) (?:a|an|another) (?:new )?(?:todo|to-do|task|item|reminder|note)"
    r"(?: (?:to|for|that says|saying|called|named|titled|about))?"
    r"|remind(?:ing)? me(?: (?:to|about|of|that i (?:need|have) to))?"
    r"|remember(?: to| that i (?:need|have) to)"
    r"|(?:do not|don'?t) (?:let me )?forget(?: to| about)?"
    r"|(?:put|set|pop|create|add) (?:in )?(?:a|an) (?:reminder|todo|task|note)(?: (?:to|for|about|that))?"
    r"|(?:new|another) (?:todo|to-do|task|item|reminder)|(?:todo|to-do|task|reminder|note to self)(?=\s*:))"
    r"(?:\s*[:,-]\s*|\s+|$)(?P<body>.*)$",
    re.I,
)
_PUT_RE = re.compile(
    r"^(?:put|putting|stick|pop|throw|chuck|get)\s+(?P<body>.+?)\s+(?:on|onto|in|into)\s+(?:my|the|our)\s+"
    r"(?:\w+\s+)?(?:list|todos?|to-?dos?|to-?do list)\b(?P<rest>.*)$",
    re.I,
)
_NEED_RE = re.compile(
    r"^(?:(?:i|we)(?:'d|'ve| would| have)?\s+(?:really |also |still |just |definitely |probably )?)?"
    r"(?:need(?: to)?|have to|have got to|got to|gotta|must|should|ought to|want to|wanna|like to"
    r"|plan to|intend to)\s+(?P<body>.+)$",
    re.I,
)
_MANAGE_VERB_RE = re.compile(
    r"^(?:delete|remove|erase|mark|rename|reopen|tick off|cross off|check off|uncheck|untick|see|view|list|show"
    r"|know|clear|undo|get rid of|add|remember|remind)\b",
    re.I,
)
_QUESTION_RE = re.compile(r"^(?:what|which|how|when|whether|if|where|who)\b", re.I)
_LIST_WRAPPER_RE = re.compile(
    r"\s*\b(?:to|on|onto|in|into)\s+(?:my|the|our)\s+(?:(?:todo|to-do|to do|shopping|task|grocery|daily|work"
    r"|personal|reminders?)\s+)?(?:list|todos|todo|to-dos|to-do|tasks|reminders)\b",
    re.I,
)
_ADDED_DESCRIPTION_RES = (
    re.compile(
        r"^(?P<title>.+?)[\s,;]+(?:with|w/|and)\s+(?:a\s+|the\s+|some\s+)?(?:description|desc|notes?|details?"
        r"|comments?)\s*(?:of\s+|saying\s+|that says\s+|[:=-]\s*)?(?P<desc>.+)$",
        re.I,
    ),
    re.compile(r"^(?P<title>.+?)[\s,;]+(?:description|desc|notes?|details?)\s*[:=-]\s*(?P<desc>.+)$", re.I),
    re.compile(r"^(?P<title>.+?)\s*\((?P<desc>[^()]+)\)$"),
    re.compile(r"^(?P<title>.+?)(?<!\d)\s*:\s+(?P<desc>.+)$"),
    re.compile(r"^(?P<title>.+?)\s+-{1,2}\s+(?P<desc>.+)$"),
)
_ITEM_SEPARATOR_RE = re.compile(r"\s*[,;]\s*(?:and\s+|&\s*|or\s+)?|\s+(?:and also|and|&|plus|as well as)\s+", re.I)
_TITLE_LEAD_RE = re.compile(
    r"^(?:(?:to|that|about|of|for)\s+|(?:a |an |the )?(?:todo|to-do|task|reminder|item)\s+(?:to|for|about|called"
    r"|named|titled)\s+)+",
    re.I,
)
_TITLE_TAIL_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|thanks|thank you|for me|as well|too|also|asap))+$|[\s.,;:!?]+$", re.I
)


def parse_add(text: str, today: date | None) -> AddIntent | ReplyIntent | Intent | None:
    """ "add X", "remind me to X", "put X and Y on my list", "I need to X"; None if not an add."""
    if match := _ADD_RE.match(text):
        body = match["body"]
    elif (match := _PUT_RE.match(text)) and not re.search(r"\bback$", match["body"], re.I):
        body = f"{match['body']} {match['rest']}"
    elif match := _NEED_RE.match(text):
        body = match["body"]
        if _MANAGE_VERB_RE.match(body) and (request := parse_request(body, today)) is not None:
            return request  # "I want to see my list", "I need to delete the milk"
    else:
        return None
    if _QUESTION_RE.match(body):
        return None  # "remind me what's on my list" is a question, not a todo
    todos = new_todos(body, today)
    return AddIntent(todos) if todos else ReplyIntent("need_title")


_TODO_VERBS = {
    "call", "buy", "book", "email", "pay", "clean", "pick", "phone", "text", "ring", "wash", "walk", "cook",
    "water", "feed", "bring", "return", "submit", "prepare", "renew", "order", "post", "mail", "fix", "visit",
    "write", "finish", "tidy", "vacuum", "hoover", "iron", "pack", "print", "sign", "schedule", "collect",
    "send", "file", "study", "practise", "practice", "review", "plan", "organise", "organize", "repair",
    "replace", "paint", "mow", "sweep", "empty", "take", "drop", "get",
}  # fmt: skip


def offer_add(text: str, today: date | None) -> OfferAddIntent | None:
    """ "call mom" on its own reads like a todo, but it is not a request: offer to add it."""
    tokens = words(text)
    if not 2 <= len(tokens) <= 8 or tokens[0] not in _TODO_VERBS:
        return None
    todos = new_todos(text, today)
    return OfferAddIntent(todos) if todos else None


def new_todos(body: str, today: date | None) -> tuple[NewTodo, ...]:
    """The todos in an add request: one with a description, or one per listed item."""
    body = " ".join(_LIST_WRAPPER_RE.sub(" ", body).split())
    for pattern in _ADDED_DESCRIPTION_RES:
        if match := pattern.match(body):
            due, title = extract_date(match["title"], today)
            title = clean_title(title)
            description = match["desc"].strip()
            return (NewTodo(title, description, _iso(due)),) if title and description else ()
    return tuple(NewTodo(title, None, _iso(due)) for title, due in split_items(body, today) if title)


def split_items(body: str, today: date | None) -> list[tuple[str, date | None]]:
    """ "milk, eggs and bread" is three todos; "call mom and dad" is one.

    With commas it is a list. With only "and", the parts are separate todos when they look alike:
    all single words ("milk and eggs") or all phrases ("buy milk and call mom"). A date that only
    the last part carries applies to every part ("call mom and email dad tomorrow").
    """
    parts = [part for part in _ITEM_SEPARATOR_RE.split(body) if part and part.strip()]
    dated = [extract_date(part, today) for part in parts]
    sizes = {min(len(rest.split()), 2) for _, rest in dated}
    if len(parts) < 2 or ("," not in body and ";" not in body and len(sizes) > 1):
        due, rest = extract_date(body, today)
        return [(clean_title(rest), due)]
    shared = dated[-1][0] if all(due is None for due, _ in dated[:-1]) else None
    return [(clean_title(rest), due or shared) for due, rest in dated]


def clean_title(text: str) -> str:
    """A title as a person would write it: no "to ..." lead-in, no quotes, first letter capitalised."""
    text = _TITLE_LEAD_RE.sub("", text.strip())
    while (stripped := _TITLE_TAIL_RE.sub("", text)) != text:
        text = stripped
    text = text.strip().strip("\"'").strip()
    return text[:1].upper() + text[1:]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- user context -------------------------------------------------------------------------------

_PROFILE_CHANGE_RE = re.compile(
    r"^(?:my name is|call me|i am called)\b|\b(?:set|change|update) my (?:name|time ?zone|preferences?|settings)\b"
    r"|\bmy time ?zone is\b|\b(?:delete|close|remove|deactivate|cancel|reset|change) (?:my|this|the) (?:user )?"
    r"(?:account|password|email|profile)\b",
    re.I,
)
_TOPIC_RES: tuple[tuple[Topic, re.Pattern[str]], ...] = (
    ("name", re.compile(r"\bwho am i\b|\bmy (?:display |full |first )?name\b|\bwhat do you call me\b", re.I)),
    ("timezone", re.compile(r"\btime ?zone\b|\bwhere am i\b", re.I)),
    ("preferences", re.compile(r"\bmy (?:preferences|prefs|settings)\b", re.I)),
    (
        "date",
        re.compile(
            r"\bwhat is (?:the )?(?:date|day)\b|\bwhat day is (?:it|today)\b|\btoday'?s date\b"
            r"|\bwhat is today$|\bwhat time is it\b",
            re.I,
        ),
    ),
    ("all", re.compile(r"\babout me\b|\bmy (?:profile|details|info|information|account)\b|\babout myself\b", re.I)),
)


def parse_profile(text: str) -> ContextIntent | ReplyIntent | None:
    """Questions about the user (name, timezone, preferences, today); changing them is not ours to do."""
    if _PROFILE_CHANGE_RE.search(text):
        return ReplyIntent("profile")
    topics = [topic for topic, pattern in _TOPIC_RES if pattern.search(text)]
    if not topics:
        return None
    return ContextIntent(topics[0] if len(topics) == 1 else "all")


# --- bulk and list: judged by the bag of words, since people phrase these a hundred ways ---------

_DELETE_WORDS = {"delete", "remove", "clear", "erase", "wipe", "purge", "clean", "tidy", "drop", "trash", "empty",
                 "rid", "bin", "nuke", "deleting", "removing", "clearing"}  # fmt: skip
_COMPLETE_WORDS = {"complete", "finish", "finished", "mark", "tick", "check", "cross", "did"}
_ASKING_WORDS = {"list", "show", "what", "which", "how", "display", "view", "see", "is", "are", "have", "has", "did",
                 "do"}  # fmt: skip
_REOPEN_WORDS = {"reopen", "uncheck", "untick", "unmark", "undone", "uncomplete", "incomplete"}
_SCOPE_WORDS = {"all", "everything", "every", "whole", "entire", "each"}
_DONE_WORDS = {"done", "completed", "complete", "finished", "ticked", "checked", "crossed", "accomplished"}
_OPEN_WORDS = {"open", "pending", "unfinished", "outstanding", "remaining", "active", "left", "still", "need",
               "needs", "incomplete", "undone"}  # fmt: skip
_NEGATIONS = {"not", "no", "yet"}
_GENERIC_WORDS = {
    "the", "my", "of", "todos", "todo", "tasks", "task", "items", "item", "ones", "one", "things", "thing",
    "list", "from", "off", "on", "in", "as", "to", "be", "is", "are", "was", "were", "get", "up", "out", "a",
    "already", "which", "have", "has", "been", "i", "me", "now", "entries", "entry", "stuff", "with", "am",
    "everything", "all", "every", "whole", "entire", "each", "not", "away", "go", "ahead", "and", "that",
}  # fmt: skip
_BULK_VOCAB = _DELETE_WORDS | _COMPLETE_WORDS | _REOPEN_WORDS | _DONE_WORDS | _OPEN_WORDS | _GENERIC_WORDS


def parse_bulk(text: str) -> BulkIntent | None:
    """ "clear completed", "mark everything done", "delete all my todos", "reopen all"."""
    tokens = words(text)
    bag = set(tokens)
    if not bag <= _BULK_VOCAB or not tokens or tokens[0] in _ASKING_WORDS or "show" in bag:
        return None
    scoped = bool(bag & _SCOPE_WORDS)
    if bag & _DELETE_WORDS and (scoped or bag & (_DONE_WORDS | _OPEN_WORDS) or "list" in bag):
        return BulkIntent("delete", _bulk_delete_filter(bag))
    if scoped and (bag & _REOPEN_WORDS or ("not" in bag and bag & _DONE_WORDS)):
        return BulkIntent("reopen", True)
    if scoped and (bag & _COMPLETE_WORDS or (bag & _DONE_WORDS and bag & {"everything", "todos", "tasks", "i"})):
        return BulkIntent("complete", False)
    return None


def _bulk_delete_filter(bag: set[str]) -> bool | None:
    """Which todos a bulk delete means: done ones ("clear completed", "clean up"), open ones, or all."""
    if (bag & _DONE_WORDS and not bag & _NEGATIONS) or bag & {"clean", "tidy"}:
        return True
    if bag & _OPEN_WORDS or bag & _DONE_WORDS:
        return False
    return None


_LIST_SIGNALS = {
    "list", "lists", "todos", "todo", "tasks", "task", "items", "agenda", "plate", "show", "left", "remaining",
    "pending", "open", "outstanding", "unfinished", "incomplete", "finished", "completed", "done", "due",
    "overdue", "anything", "chores", "jobs", "everything", "stuff", "things",
}  # fmt: skip
_LIST_VOCAB = _LIST_SIGNALS | _GENERIC_WORDS | {
    "what", "whats", "which", "how", "many", "much", "s", "do", "does", "did", "got", "for", "there", "give",
    "see", "view", "display", "read", "print", "tell", "can", "you", "please", "current", "again", "so", "far",
    "yet", "t", "isn", "aren", "haven", "ve", "any", "remind", "know", "let", "look", "at", "like", "should",
    "must", "d", "today", "tonight", "tomorrow", "this", "week", "next", "late", "past", "by", "before", "until",
    "need", "needs", "still", "complete", "checked", "ticked", "whole", "full", "shopping", "left", "over",
    "summary", "status", "overview", "state", "i", "we", "our", "an", "am", "will", "would", "else",
}  # fmt: skip


def parse_list(text: str, today: date | None) -> ListIntent | None:
    """ "what's left", "show my todos", "what have I finished", "anything due tomorrow?"."""
    tokens = words(re.sub(r"\bto[- ]do\b(?=[- ]?(?:list|items?)\b)|\bto-do\b", "todo", text, flags=re.I))
    bag = set(tokens)
    asks_what = bool(bag & {"what", "which"} and bag & {"have", "need", "got", "do"})
    if not tokens or tokens[0] in {"it", "that", "this", "these", "those", "they"}:  # "that's done" is about a todo
        return None
    if tokens[0] in {"i", "we"} and not bag & {"what", "which", "how", "show", "anything", "list"}:
        return None  # "I finished" is a statement, not a question
    if not bag <= _LIST_VOCAB or not (bag & _LIST_SIGNALS or asks_what or ("how" in bag and "many" in bag)):
        return None
    phrase = " ".join(tokens)
    negated = bool(bag & _NEGATIONS) or tokens[0] in {"is", "are"}  # "is everything done?": show what is not
    if bag & _DONE_WORDS and not negated and not bag & _OPEN_WORDS and " to do" not in phrase:
        return ListIntent(completed=True)
    pending = bool(bag & _OPEN_WORDS or bag & _DONE_WORDS or " to do" in phrase or bag & {"due", "overdue"})
    window = _due_window(bag, phrase, today)
    if window:
        return ListIntent(False, *window)
    return ListIntent(completed=False if pending else None)


def _due_window(bag: set[str], phrase: str, today: date | None) -> tuple[date | None, date, str] | None:
    """The due-date range a list question asks about: (from, until, label) or None for all dates."""
    if today is None:
        return None
    sunday = today + timedelta(days=6 - today.weekday())
    if bag & {"overdue", "late"} or "past due" in phrase:
        return None, today - timedelta(days=1), "overdue"
    if "tomorrow" in bag:
        tomorrow = today + timedelta(days=1)
        return tomorrow, tomorrow, "tomorrow"
    if "next week" in phrase:
        return sunday + timedelta(days=1), sunday + timedelta(days=7), "next week"
    if "week" in bag:
        return None, sunday, "this week"
    if bag & {"today", "tonight"}:
        return None, today, "today"
    return None


# --- changes to todos picked by reference ----------------------------------------------------------

_REF_WRAPPER_RE = re.compile(
    r"\s+(?:from|off|on|in) (?:my|the) (?:\w+ )?(?:list|todos?|to-?dos?|tasks?)\b|^(?:the )?(?:todo|task|item)"
    r"(?: called| named| titled)?\s+|\s+(?:please|for me|again|too|as well)$|'s (?:name|title)$",
    re.I,
)
_DONE_STATE = r"(?:done|complete|completed|finished|closed|resolved|ticked(?: off)?|checked(?: off)?|crossed off)"
_OPEN_STATE = (
    r"(?:not done|undone|not complete|not completed|incomplete|not finished|unfinished|open|pending|to ?do|active"
    r"|uncompleted|outstanding|unticked|unchecked|not ticked off)"
)
_REOPEN_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^(?:reopen|re-open|unmark|uncheck|untick|uncomplete|un-complete|unfinish|restore|revive|reactivate)"
        rf"\s+(?P<ref>.+?)(?:\s+as\s+{_DONE_STATE})?$",
        rf"^(?:mark|set|make|change|put|move|switch|flag|turn)\s+(?P<ref>.+?)\s+(?:as |to |back to |back as |back )?"
        rf"{_OPEN_STATE}(?: again)?$",
        r"^(?P<ref>.+?)\s+(?:is|are|was|were|has|have)(?: actually| really)? not (?:actually |really |been |yet )*"
        r"(?:done|finished|complete|completed|sorted)(?: yet| after all)?$",
        r"^(?P<ref>.+?)\s+(?:still )?needs? (?:doing|to be done)$",
        r"^i (?:did|have|had) not (?:actually |really |yet )?(?:finished |completed |done |finish |complete |do )?"
        r"(?P<ref>.+?)(?: yet| after all)?$",
        r"^(?:put|bring)\s+(?P<ref>.+?)\s+back(?: on (?:my|the) list)?$",
    )
)
_COMPLETE_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^(?:mark|marking|set|flag|make|change|put|move|switch|update)\s+(?P<ref>.+?)\s+(?:as |to |to be )?"
        rf"{_DONE_STATE}$",
        r"^(?:tick|check|cross|strike|knock|scratch)\s+(?P<ref>.+?)\s+(?:off|out)(?: (?:my|the) list)?$",
        r"^(?:tick off|check off|cross off|cross out|strike off|strike out|strike through|knock off|scratch off"
        r"|scratch out|tick)\s+(?P<ref>.+?)$",
        r"^(?:complete|completed|finish|finished|close|closed|resolve|resolved|done with|did|accomplished|done)"
        r"(?:\s*[:-]\s*|\s+)(?P<ref>.+)$",
        r"^(?:i|we)(?: have| am| are)? (?:just |already |finally |now |totally |actually )*(?:done with"
        r"|finished with|through with|completed|finished|done|did|ticked off|checked off|crossed off)\s+(?P<ref>.+)$",
        r"^(?P<ref>.+?)\s+(?:is|are|was|has been|have been|got)?\s*(?:now |all |finally |already |been )*(?:done"
        r"|finished|complete|completed|sorted|handled|taken care of|ticked off|checked off|dealt with)$",
    )
)
_DELETE_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^(?:delete|deleting|remove|removing|erase|drop|trash|scrap|scratch|discard|ditch|bin|nuke|purge|kill"
        r"|get rid of|do away with|cancel|strike|throw away|throw out)\s+(?P<ref>.+?)$",
        r"^take\s+(?P<ref>.+?)\s+off(?: (?:my|the) (?:\w+ )?(?:list|todos?))?$",
        r"^forget(?: about)?\s+(?P<ref>.+)$",
        r"^(?:i|we) (?:do not|no longer) need (?:to )?(?P<ref>.+?)(?: anymore| any more| after all)?$",
        r"^no (?:need|longer need) (?:to |for )?(?P<ref>.+?)(?: anymore| any more)?$",
        r"^(?P<ref>.+?)\s+(?:can go|is not needed|is no longer needed|is cancelled|is canceled|got cancell?ed"
        r"|is not happening)(?: anymore| any more)?$",
    )
)


def clean_ref(text: str) -> str:
    """The user's words for a todo, minus list wrappers: "the milk from my list" -> "the milk"."""
    text = text.strip(" \"'-:,;.")
    while (stripped := _REF_WRAPPER_RE.sub("", text).strip(" -:,;.")) != text:
        text = stripped
    return text.strip("\"'")


_SUBJECTS = {"i", "we", "you", "me"}  # "I finished" names no todo


def _first_ref_match(patterns: Sequence[re.Pattern[str]], action: Action, text: str) -> ChangeIntent | None:
    for pattern in patterns:
        if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])) and ref.lower() not in _SUBJECTS:
            return ChangeIntent(action, (Choice(ref),))
    return None


def _cut_choices(body: str, separator: str) -> tuple[Choice, ...]:
    """Every way to cut `body` at `separator` into (todo reference, new value): either side may
    contain the separator word ("rename go to gym to go swimming")."""
    choices = []
    for cut in re.finditer(separator, body, re.I):
        if body[: cut.start()].count('"') % 2:
            continue  # inside a quoted title
        ref, value = clean_ref(body[: cut.start()]), body[cut.end() :].strip().strip("\"'")
        if ref and value:
            choices.append(Choice(ref, value))
    return tuple(choices)


_DESCRIBE_RES = (
    (
        re.compile(
            r"^(?:add|attach|put|write|append|include|set|leave)\s+(?:a\s+|an\s+|the\s+|some\s+)?(?:note|notes"
            r"|description|details|detail|comment)\s+(?:to|on|for)\s+(?P<body>.+)$",
            re.I,
        ),
        r"\s*:\s+|\s+saying\s+|\s+that says\s+|\s+reading\s+|\s+-\s+",
    ),
    (
        re.compile(
            r"^(?:set|change|update|edit|replace|make)\s+(?:the\s+)?(?:description|notes?|details?|comment)\s+"
            r"(?:of|for|on)\s+(?P<body>.+)$",
            re.I,
        ),
        r"\s+(?:to|as|with)\s+|\s*:\s+",
    ),
    (
        re.compile(r"^(?:set|change|update|edit)\s+(?P<body>.+?\s+(?:description|notes?|details?)\s+.+)$", re.I),
        r"(?:'s)?\s+(?:description|notes?|details?)\s+(?:to|as)(?: say| read)?\s+",
    ),
    (re.compile(r"^describe\s+(?P<body>.+)$", re.I), r"\s+as\s+"),
)


def parse_describe(text: str) -> ChangeIntent | None:
    """ "add a note to X: ...", "set the description of X to ...": edit an existing todo's notes."""
    for pattern, separator in _DESCRIBE_RES:
        if (match := pattern.match(text)) and (choices := _cut_choices(match["body"], separator)):
            return ChangeIntent("describe", choices)
    return None


_DUE_VERB_RE = re.compile(
    r"^(?:move|moving|postpone|push(?: back)?|reschedule|defer|delay|bump|shift|put off|(?:set|change|update|make"
    r"|put|give|add)\s+(?:a\s+|the\s+)?(?:due date|deadline|date)\s+(?:of|for|on|to))\s+(?P<body>.+)$",
    re.I,
)
_DUE_STATEMENT_RES = (
    re.compile(r"^(?:set|make|mark|have)\s+(?P<ref>.+?)\s+(?:to be\s+)?due\s+(?P<date>.+)$", re.I),
    re.compile(
        r"^(?:change|set|update)\s+(?P<ref>.+?)(?:'s)?\s+(?:due date|deadline)\s+(?:to|for|as)\s+(?P<date>.+)$", re.I
    ),
    re.compile(
        r"^(?P<ref>.+?)\s+(?:is|are|should be|will be|needs to be done|has to be done)\s+(?:now\s+)?"
        r"(?:due\s+)?(?P<date>(?:by|on|before)\s+.+|due\s+.+)$",
        re.I,
    ),
)
_REF_TAIL_RE = re.compile(r"(?:\s+(?:to|until|till|for|by|on|due|is|as|back))+$", re.I)


def parse_due(text: str, today: date | None) -> ChangeIntent | ReplyIntent | None:
    """ "move X to Friday", "push X back to next week", "X is due tomorrow"."""
    for pattern in _DUE_STATEMENT_RES:
        if (match := pattern.match(text)) and (day := date_value(match["date"], today)):
            return ChangeIntent("due", (Choice(clean_ref(match["ref"]), day.isoformat()),))
    if not (match := _DUE_VERB_RE.match(text)):
        return None
    body = match["body"]
    found = find_date(body, today)
    if found is None or found.end != len(body.rstrip(" .!?")):
        return ReplyIntent("need_date") if re.search(r"\s(?:to|until|till)\s", body, re.I) else None
    ref = clean_ref(_REF_TAIL_RE.sub("", body[: found.start].strip()))
    return ChangeIntent("due", (Choice(ref, found.day.isoformat()),)) if ref else None


_RENAME_RES = (
    (re.compile(r"^(?:rename|renaming|retitle|relabel)\s+(?P<body>.+)$", re.I), r"\s+(?:to|as|into)\s+|\s*[-=]>\s*"),
    (
        re.compile(
            r"^(?:change|update|edit|modify|set|fix|correct)\s+(?:the\s+)?(?:name|title|wording|text)\s+"
            r"(?:of|for|on)\s+(?P<body>.+)$",
            re.I,
        ),
        r"\s+(?:to|as|into)\s+",
    ),
    (re.compile(r"^(?:call|name|title)\s+(?P<body>.+?)\s+instead$", re.I), r"\s+"),
    (
        re.compile(r"^(?P<body>.+?\s+should (?:be called|be named|say|read)\s+.+)$", re.I),
        r"\s+should (?:be called|be named|say|read)\s+",
    ),
)
_CHANGE_RE = re.compile(r"^(?:change|update|edit|modify|alter|fix|correct|reword|replace|switch)\s+(?P<body>.+)$", re.I)
_CHANGE_SEPARATOR = r"\s+to (?:say|read)\s+|\s+(?:to|into|with)\s+|\s*->\s*"


def parse_rename(text: str, today: date | None) -> ChangeIntent | None:
    """ "rename X to Y", "call X Y instead", and the open-ended "change X to Y", where the new value
    decides the kind of change: "change X to Friday" moves the due date, "change X to done" completes it."""
    for pattern, separator in _RENAME_RES:
        if (match := pattern.match(text)) and (choices := _cut_choices(match["body"], separator)):
            return _renamed(choices)
    if not (match := _CHANGE_RE.match(text)) or not (choices := _cut_choices(match["body"], _CHANGE_SEPARATOR)):
        return None
    last = choices[-1]  # the shortest value: "friday" in "change go to gym to friday"
    if day := date_value(last.value or "", today):
        return ChangeIntent("due", (replace(last, value=day.isoformat()),))
    if re.fullmatch(_DONE_STATE, last.value or "", re.I):
        return ChangeIntent("complete", (Choice(last.ref),))
    if re.fullmatch(_OPEN_STATE, last.value or "", re.I):
        return ChangeIntent("reopen", (Choice(last.ref),))
    return _renamed(choices)


def _renamed(choices: tuple[Choice, ...]) -> ChangeIntent | None:
    titled = tuple(replace(choice, value=clean_title(choice.value or "")) for choice in choices)
    kept = tuple(choice for choice in titled if choice.value)
    return ChangeIntent("rename", kept) if kept else None


_STATUS_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^(?:is|was|has|have|are)\s+(?P<ref>.+?)\s+(?:been\s+|already\s+|actually\s+)*(?:done|finished|completed?"
        r"|ticked off|checked off|sorted)(?:\s+(?:yet|already))?$",
        r"^is\s+(?P<ref>.+?)\s+(?:still\s+)?(?:open|pending|outstanding|left|on (?:my|the) list|not done)$",
        r"^did i\s+(?:already\s+|actually\s+|ever\s+)?(?P<ref>.+?)(?:\s+(?:yet|already))?$",
        r"^have i\s+(?:already\s+|actually\s+)?(?P<ref>\w+(?:ed|ought|aught|id|ent|ne)\s+.+?)(?:\s+(?:yet|already))?$",
        r"^when (?:is|was)\s+(?P<ref>.+?)\s+due$",
        r"^what is the (?:status|due date|deadline) (?:of|for|on)\s+(?P<ref>.+)$",
        r"^when do i (?:need|have) to\s+(?P<ref>.+?)(?:\s+by)?$",
    )
)


def parse_status(text: str) -> ChangeIntent | ListIntent | None:
    """ "is the milk done?", "did I call mom?", "when is the report due?"."""
    for pattern in _STATUS_RES:
        if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])):
            if set(words(ref)) <= _GENERIC_WORDS | _DONE_WORDS | {"anything", "finish", "do", "them"}:
                return ListIntent(completed=False)  # "did I finish everything?"
            return ChangeIntent("status", (Choice(ref),))
    return None


_PAST_RE = re.compile(
    r"^(?:(?P<subject>i|we)\s+(?:have\s+)?)?(?P<adverb>(?:just|already|finally|also|now)\s+)*"
    r"(?P<ref>(?P<verb>[a-z]+)\s+\S.*)$",
    re.I,
)
_NOT_COMPLETION = {
    "added", "created", "deleted", "removed", "renamed", "changed", "moved", "updated", "marked", "listed",
    "wanted", "needed", "liked", "loved", "hated", "used", "tried", "started", "forgot", "missed", "decided",
    "planned", "hoped", "wished", "asked", "said", "thought", "had", "left", "lost", "put", "set", "shut",
}  # fmt: skip
_COMMON_DEEDS = {"call", "email", "text", "phone", "ring", "walk", "wash", "clean", "book", "fix", "water",
                 "post", "mail", "cook", "order", "return", "renew", "submit", "pick", "print", "pack",
                 "tidy", "vacuum", "hoover", "iron", "finish", "complete", "visit", "cancel", "sign"}  # fmt: skip


def parse_done_statement(text: str) -> ChangeIntent | None:
    """ "I bought the milk", "just called mom": a past-tense deed may be a todo that is now done.

    It is only a guess, so it needs "I" or "just/already" or a common to-do verb, and later a
    stronger title match; when nothing matches, the answer says so and nothing changes.
    """
    match = _PAST_RE.match(text)
    if match is None:
        return None
    verb = match["verb"].lower()
    past = verb in _IRREGULAR or (verb.endswith("ed") and len(verb) > 4)
    if not past or verb in _NOT_COMPLETION:
        return None
    if not (match["subject"] or match["adverb"] or verb in _IRREGULAR or stem(verb) in _COMMON_DEEDS):
        return None
    return ChangeIntent("complete", (Choice(clean_ref(match["ref"])),), tentative=True)


# ----------------------------------------------------------------------------------------------
# The conversation as the model sees it
# ----------------------------------------------------------------------------------------------

_MUTATING_TOOLS = frozenset({"add_todo", "update_todo", "delete_todo"})


@dataclass(frozen=True)
class Todo:
    id: str
    title: str
    completed: bool = False
    due_date: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Todo | None:
        """A todo from a tool output; None for anything without an id and a title."""
        if not isinstance(data, dict) or not data.get("id") or not isinstance(data.get("title"), str):
            return None
        return cls(
            id=str(data["id"]),
            title=data["title"],
            completed=bool(data.get("completed")),
            due_date=data.get("due_date"),
            description=data.get("description"),
        )


@dataclass
class PastCall:
    """A tool call the conversation already holds, with its parsed JSON output once it has one."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    output: dict[str, Any] | None = None

    @property
    def error(self) -> str | None:
        """The tool's error message, if it failed."""
        problem = (self.output or {}).get("error")
        if isinstance(problem, dict):
            return str(problem.get("message") or problem.get("code") or "the tool failed")
        return None if problem is None else str(problem)

    @property
    def subject(self) -> Todo | None:
        """The todo a successful add, update or delete was about."""
        if self.output is None or self.error:
            return None
        return Todo.from_json(self.output.get("todo") or self.output.get("deleted"))

    @property
    def listed(self) -> list[Todo]:
        todos = (self.output or {}).get("todos")
        return [todo for item in todos if (todo := Todo.from_json(item))] if isinstance(todos, list) else []


@dataclass
class Turn:
    """One user message and what followed it: tool calls with their outputs, and the answer."""

    user_text: str
    calls: list[PastCall] = field(default_factory=list)
    answer: str | None = None

    @property
    def mutations(self) -> list[PastCall]:
        """Add, update and delete calls that have run (successfully or not)."""
        return [call for call in self.calls if call.name in _MUTATING_TOOLS and call.output is not None]

    @property
    def changed(self) -> list[Todo]:
        return [todo for call in self.mutations if (todo := call.subject)]

    @property
    def is_listing(self) -> bool:
        return bool(self.calls) and all(call.name == "list_todos" and call.output for call in self.calls)

    def listing(self, completed: bool | Literal["last"] | None = "last") -> list[Todo]:
        """The todos this turn's `list_todos` pages returned for one filter (the last one used by
        default), pages joined in order."""
        pages = [call for call in self.calls if call.name == "list_todos" and call.output is not None]
        if completed == "last":
            completed = pages[-1].arguments.get("completed") if pages else None
        seen: dict[str, Todo] = {}
        for page in pages:
            if page.arguments.get("completed") == completed:
                seen.update((todo.id, todo) for todo in page.listed if todo.id not in seen)
        return list(seen.values())


@dataclass(frozen=True)
class Conversation:
    today: date | None
    tools: frozenset[str]
    turns: tuple[Turn, ...]

    @property
    def current(self) -> Turn:
        return self.turns[-1]

    @property
    def history(self) -> tuple[Turn, ...]:
        return self.turns[:-1]


def read_conversation(instructions: str | None, items: Sequence[dict[str, Any]], tools: frozenset[str]) -> Conversation:
    turns = read_turns(items) or [Turn("")]
    return Conversation(today_from_instructions(instructions), tools, tuple(turns))


def read_turns(items: Sequence[dict[str, Any]]) -> list[Turn]:
    """Group Responses input items into turns, pairing each call with its output by call id."""
    turns: list[Turn] = []
    calls: dict[str, PastCall] = {}

    def latest() -> Turn:
        if not turns:  # history cut before its first user message
            turns.append(Turn(""))
        return turns[-1]

    for item in items:
        kind, role = item.get("type"), item.get("role")
        if role == "user" and kind in (None, "message"):
            turns.append(Turn(_text_of(item.get("content"))))
        elif role == "assistant" and kind in (None, "message"):
            latest().answer = _text_of(item.get("content"))
        elif kind == "function_call":
            call = PastCall(str(item.get("call_id")), str(item.get("name")), _json_object(item.get("arguments")))
            calls[call.call_id] = call
            latest().calls.append(call)
        elif kind == "function_call_output" and (answered := calls.get(str(item.get("call_id")))):
            answered.output = _tool_output(item.get("output"))
    return turns


def as_items(input: str | list[TResponseInputItem]) -> list[dict[str, Any]]:
    """Input items as plain dicts, whether given as a string, dicts or SDK/OpenAI models."""
    if isinstance(input, str):
        return [{"role": "user", "content": input}]
    items = []
    for item in input:
        dump = getattr(item, "model_dump", None)
        items.append(dump(exclude_none=True) if callable(dump) else dict(item))
    return items


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict)).strip()
    return ""


def _json_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tool_output(raw: Any) -> dict[str, Any]:
    """A tool output as JSON; anything else (the SDK's plain-text failure message) counts as an error."""
    text = _text_of(raw) if isinstance(raw, list) else raw
    parsed = _json_object(text)
    if parsed:
        return parsed
    return {"error": {"code": "internal", "message": str(text or "the tool returned nothing")}}


# ----------------------------------------------------------------------------------------------
# References: which todos "the milk", "the second one" and "it" mean
# ----------------------------------------------------------------------------------------------

_REF_STOPWORDS = {
    "a", "an", "the", "my", "our", "your", "to", "of", "for", "on", "in", "at", "with", "and", "or", "one",
    "ones", "todo", "todos", "task", "tasks", "item", "items", "thing", "things", "entry", "that", "this",
    "it", "about", "some", "please", "list", "from", "off", "as", "is", "was", "i", "me", "have", "has",
    "ve", "just", "already", "finally", "again", "also", "too", "s", "called", "named", "titled", "which",
    "says", "said", "done", "complete", "completed", "finished", "yet", "now", "we",
}  # fmt: skip
_WEAK_WORDS = {stem(word) for word in (
    "call", "buy", "get", "do", "make", "go", "pay", "send", "email", "book", "pick", "clean", "write", "fix",
    "check", "take", "finish", "read", "see", "visit", "order", "text", "phone", "ring", "tidy", "wash",
    "walk", "cook", "water", "feed", "bring", "return", "submit", "prepare", "plan", "review", "update",
    "start", "renew", "cancel", "sort", "organise", "organize", "up",
)}  # fmt: skip
_ORDINALS = {
    "first": 1, "1st": 1, "top": 1, "oldest": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1, "bottom": -1, "final": -1, "latest": -1,
    "newest": -1, "most recent": -1, "penultimate": -2, "second last": -2, "second to last": -2,
    "next to last": -2, "one before last": -2,
}  # fmt: skip
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10}  # fmt: skip
_ORDINAL_RE = "|".join(sorted((re.escape(o) for o in _ORDINALS), key=len, reverse=True))
_POSITION_RE = re.compile(
    rf"^(?:the |my )?(?:(?P<ordinal>{_ORDINAL_RE})(?: (?:one|todo|task|item|entry|thing))?"
    r"(?: (?:on|in) (?:the|my) list)?|(?:#|no\.? ?|number |num |item |todo |task |entry )?(?P<number>\d{1,3})"
    rf"|(?:number|item|todo|task) (?P<word>{'|'.join(_NUMBER_WORDS)}))$",
    re.I,
)
_PRONOUN_RE = re.compile(
    r"^(?:(?P<one>it|that|this|that one|this one|the one (?:i|you) just (?:added|created|made|mentioned|changed"
    r"|completed|did|ticked off|marked)|what (?:i|you) just added|the (?:new|last) one (?:i|you) (?:added|created"
    r"|made))|(?P<many>both|both of them|those two|those ones|all three"
    r"|(?:all of )?(?:them|those|these)(?: all)?))$",
    re.I,
)
_REF_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+)?|\s+(?:and|&|plus)\s+", re.I)


@dataclass(frozen=True)
class Resolution:
    """What a reference picked: the todos meant, or else equally good `candidates` (ask which),
    or else a `problem` to tell the user. `quality` ranks readings: 2 exact, 1 every word matched,
    0 some words matched, below 0 nothing picked."""

    todos: tuple[Todo, ...] = ()
    candidates: tuple[Todo, ...] = ()
    problem: str | None = None
    quality: int = -2


@dataclass(frozen=True)
class RefContext:
    """What positions and pronouns point at. `shown` is the list the user last saw, in the order
    shown (positions count in it); `recent` holds the todos the last turn was about ("it")."""

    shown: tuple[Todo, ...] | None = None
    recent: tuple[Todo, ...] = ()


def resolve(
    text: str, todos: Sequence[Todo], refs: RefContext, action: Action, *, strict: bool = False, split: bool = True
) -> Resolution:
    """The todos the user's words pick out of `todos` (the current list)."""
    if pronoun := _PRONOUN_RE.match(text):
        return _by_pronoun(text, bool(pronoun["many"]), todos, refs)
    if position := _POSITION_RE.match(text):
        return _by_position(text, _position_of(position), todos, refs)
    found = match_titles(text, todos, action, strict=strict)
    parts = _REF_SPLIT_RE.split(text)
    if found.todos or not split or len(parts) < 2:
        return found
    picked = [resolve(part, todos, refs, action, strict=strict, split=False) for part in parts if part.strip()]
    if not all(len(part.todos) == 1 for part in picked):
        return found
    unique = {part.todos[0].id: part.todos[0] for part in picked}
    return Resolution(todos=tuple(unique.values()), quality=min(part.quality for part in picked))


def match_titles(text: str, todos: Sequence[Todo], action: Action, *, strict: bool = False) -> Resolution:
    """Fuzzy title matching by stemmed words.

    A todo matches when it has every word of the reference, or most of them including a telling one
    (not just a verb like "call" or "buy"). An exact match wins; ties ask; `strict` (for guesses
    from statements) also wants a telling word in a complete match.
    """
    wanted = key_words(text)
    if not wanted:
        return Resolution(problem=unclear_reference_answer(text))
    scored: dict[float, list[Todo]] = {}
    for todo in todos:
        title = key_words(todo.title)
        if title == wanted:
            scored.setdefault(2.0, []).append(todo)
            continue
        matched = {word for word in wanted if any(same_word(word, other) for other in title)}
        coverage = len(matched) / len(wanted)
        telling = bool(matched - _WEAK_WORDS)
        if (coverage == 1 and (telling or not strict)) or (coverage >= 0.5 and telling):
            scored.setdefault(coverage, []).append(todo)
    if not scored:
        return Resolution(problem=no_match_answer(text, todos))
    best_score = max(scored)
    best = _prefer_by_state(scored[best_score], action)
    quality = 2 if best_score == 2 else 1 if best_score == 1 else 0
    if len(best) > 1:
        return Resolution(candidates=tuple(best), problem=which_one_answer(text, best), quality=-1)
    return Resolution(todos=tuple(best), quality=quality)


def key_words(text: str) -> frozenset[str]:
    """The stems that identify a todo: "the milk one" -> {"milk"}."""
    tokens = words(text)
    kept = [token for token in tokens if token not in _REF_STOPWORDS] or tokens
    return frozenset(stem(token) for token in kept)


def _prefer_by_state(todos: list[Todo], action: Action) -> list[Todo]:
    """Among equal matches, the ones the action would change: "mark milk done" means the open "Milk"."""
    if action not in ("complete", "reopen"):
        return todos
    changeable = [todo for todo in todos if todo.completed != (action == "complete")]
    return changeable or todos


def _position_of(match: re.Match[str]) -> int:
    if match["ordinal"]:
        return _ORDINALS[match["ordinal"].lower()]
    if match["word"]:
        return _NUMBER_WORDS[match["word"].lower()]
    return int(match["number"])


def _by_position(text: str, position: int, todos: Sequence[Todo], refs: RefContext) -> Resolution:
    """Position in the list the user last saw (or the current list, oldest first)."""
    base = list(refs.shown) if refs.shown is not None else list(todos)
    index = position - 1 if position > 0 else len(base) + position
    if not 0 <= index < len(base):
        return Resolution(problem=no_position_answer(text, base))
    return _still_listed([base[index]], todos)


def _by_pronoun(text: str, many: bool, todos: Sequence[Todo], refs: RefContext) -> Resolution:
    if not refs.recent:
        return Resolution(problem=unclear_reference_answer(text))
    if len(refs.recent) > 1 and not many:
        current = [todo for todo in todos if todo.id in {r.id for r in refs.recent}]
        if len(current) != 1:
            return Resolution(candidates=tuple(current), problem=which_one_answer(text, current), quality=-1)
        return Resolution(todos=tuple(current), quality=2)
    return _still_listed(refs.recent, todos)


def _still_listed(meant: Sequence[Todo], todos: Sequence[Todo]) -> Resolution:
    """The meant todos as they are now; the ones deleted since are reported as gone."""
    current = {todo.id: todo for todo in todos}
    found = tuple(current[todo.id] for todo in meant if todo.id in current)
    if not found:
        return Resolution(problem=gone_answer([todo.title for todo in meant], todos))
    return Resolution(todos=found, quality=2)


def shown_list(turns: Sequence[Turn], today: date | None) -> tuple[Todo, ...] | None:
    """The list the user last saw: the latest turn that only listed todos to show them."""
    for index in reversed(range(len(turns))):
        turn = turns[index]
        if not turn.is_listing or turn.answer is None:
            continue
        intent = understand(turns[: index + 1], today)
        if isinstance(intent, ChangeIntent | BulkIntent):
            continue  # that listing found a todo to change; the user was not shown it
        todos = turn.listing()
        return tuple(visible(intent, todos)) if isinstance(intent, ListIntent) else tuple(todos)
    return None


def recent_subjects(turns: Sequence[Turn], today: date | None) -> tuple[Todo, ...]:
    """What "it" and "them" mean: the todos of the latest turn that changed or showed some."""
    for index in reversed(range(len(turns))):
        turn = turns[index]
        if turn.changed:
            return tuple(turn.changed)
        if not turn.is_listing:
            continue
        intent = understand(turns[: index + 1], today)
        todos = turn.listing()
        if not isinstance(intent, ChangeIntent):
            return tuple(visible(intent, todos))
        # A status question, or our "which one?": what it was about, read as it was read then.
        earlier = turns[:index]
        found = choose(intent, todos, RefContext(shown_list(earlier, today), recent_subjects(earlier, today)))[1]
        if found.todos or found.candidates:
            return found.todos or found.candidates
    return ()


def choose(intent: ChangeIntent, todos: Sequence[Todo], refs: RefContext) -> tuple[Choice, Resolution]:
    """The reading of the request whose reference fits the list best, and what it picked."""
    if intent.follow_up_of is not None:
        return _choose_follow_up(intent, intent.follow_up_of, todos, refs)
    resolved = [
        (choice, resolve(choice.ref, todos, refs, intent.action, strict=intent.tentative)) for choice in intent.choices
    ]
    return max(resolved, key=lambda pair: (pair[1].quality, len(pair[0].ref)))


def _choose_follow_up(
    intent: ChangeIntent, asked: ChangeIntent, todos: Sequence[Todo], refs: RefContext
) -> tuple[Choice, Resolution]:
    """The user answered our "which one?": pick among the candidates we named, in the order named."""
    previous, found = choose(asked, todos, refs)
    reply = intent.choices[0].ref
    pool = found.candidates or found.todos
    if pool:
        narrowed = resolve(reply, pool, RefContext(shown=pool, recent=pool), intent.action)
        if narrowed.todos:
            return replace(previous, ref=reply), narrowed
    return replace(previous, ref=reply), resolve(reply, todos, refs, intent.action)


def visible(intent: Intent, todos: Sequence[Todo]) -> list[Todo]:
    """The todos a list answer shows: those due in the asked-for window, or else all listed."""
    return due_in_window(intent, todos) or list(todos)


def due_in_window(intent: Intent, todos: Sequence[Todo]) -> list[Todo]:
    if not isinstance(intent, ListIntent) or intent.due_until is None:
        return []
    low = intent.due_from.isoformat() if intent.due_from else ""
    high = intent.due_until.isoformat()
    return [todo for todo in todos if todo.due_date and low <= todo.due_date <= high]


# ----------------------------------------------------------------------------------------------
# Planning: the next step of the turn
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolRequest:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """The next step: tool calls to make, or (when there are none) the final answer."""

    calls: tuple[ToolRequest, ...] = ()
    answer: str = ""


def list_request(completed: bool | None, offset: int | None = None) -> ToolRequest:
    return ToolRequest("list_todos", {"completed": completed, "limit": None, "offset": offset})


def add_request(todo: NewTodo) -> ToolRequest:
    return ToolRequest("add_todo", {"title": todo.title, "description": todo.description, "due_date": todo.due_date})


def update_request(
    todo_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
    due_date: str | None = None,
) -> ToolRequest:
    arguments = {"todo_id": todo_id, "title": title, "description": description, "completed": completed}
    return ToolRequest("update_todo", {**arguments, "due_date": due_date})


def delete_request(todo_id: str) -> ToolRequest:
    return ToolRequest("delete_todo", {"todo_id": todo_id})


def plan_next(conv: Conversation) -> Plan:
    """Decide the next step from the conversation, calling only the tools we were given."""
    intent = understand(conv.turns, conv.today)
    plan = _plan_for(intent, conv)
    missing = [call.name for call in plan.calls if call.name not in conv.tools]
    return Plan(answer=tool_missing_answer(missing[0])) if missing else plan


_YES_RE = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please|go ahead|do it|add it|why not)\b(?!.*\bnot?\b)", re.I)
_CONTINUATION_RE = re.compile(r"^(?:and|also|plus|same (?:for|with)|likewise)\b|\b(?:too|as well)[.!]*$", re.I)
_CONTINUABLE: frozenset[Action] = frozenset({"complete", "reopen", "delete", "due"})


def understand(turns: Sequence[Turn], today: date | None) -> Intent:
    """The latest message's intent. A bare reference ("the second one", "mom") answers the question
    our previous answer asked; "and the milk too" repeats the previous change for another todo;
    "yes" accepts our offer to add something."""
    intent = parse_intent(turns[-1].user_text, today)
    if not isinstance(intent, ReplyIntent) or len(turns) < 2:
        return intent
    previous = understand(turns[:-1], today)
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


def _plan_for(intent: Intent, conv: Conversation) -> Plan:
    match intent:
        case AddIntent():
            return plan_add(intent, conv)
        case ListIntent():
            return plan_list(intent, conv)
        case ChangeIntent():
            return plan_change(intent, conv)
        case BulkIntent():
            return plan_bulk(intent, conv)
        case UndoIntent():
            return plan_undo(conv)
        case ContextIntent():
            return plan_context(intent, conv)
        case OfferAddIntent():
            return plan_offer(intent, conv)
        case ReplyIntent():
            return Plan(answer=REPLIES[intent.kind])


def fetch_all(conv: Conversation, completed: bool | None) -> list[Todo] | Plan:
    """Every todo with that status, paging `list_todos` like a model would: the todos once this
    turn's pages are complete, else the plan to fetch the next page (or report its error)."""
    pages = [
        call
        for call in conv.current.calls
        if call.name == "list_todos" and call.output is not None and call.arguments.get("completed") == completed
    ]
    if not pages:
        return Plan(calls=(list_request(completed),))
    last = pages[-1]
    if last.error:
        return Plan(answer=f"I couldn't read your todo list: {last.error}.")
    pagination = (last.output or {}).get("pagination") or {}
    if pagination.get("has_more") and last.listed:
        return Plan(calls=(list_request(completed, int(pagination.get("offset") or 0) + len(last.listed)),))
    return conv.current.listing(completed)


def plan_add(intent: AddIntent, conv: Conversation) -> Plan:
    if conv.current.mutations:
        return Plan(answer=report_changes(conv))
    return Plan(calls=tuple(add_request(todo) for todo in intent.todos))


def plan_offer(intent: OfferAddIntent, conv: Conversation) -> Plan:
    """Offer to add what the user named, unless it is on the list already (a model would look)."""
    todos = fetch_all(conv, None)
    if isinstance(todos, Plan):
        return todos
    existing = {key_words(todo.title): todo for todo in todos}
    known = [existing[key] for todo in intent.todos if (key := key_words(todo.title)) in existing]
    if len(known) == len(intent.todos):
        done = " (marked as done)" if all(todo.completed for todo in known) else ""
        return Plan(answer=f"{quoted([todo.title for todo in known])} is already on your list{done}.")
    return Plan(answer=f"Do you want me to add {quoted([todo.title for todo in intent.todos])} to your list?")


def plan_list(intent: ListIntent, conv: Conversation) -> Plan:
    todos = fetch_all(conv, intent.completed)
    return todos if isinstance(todos, Plan) else Plan(answer=list_answer(intent, todos))


def plan_context(intent: ContextIntent, conv: Conversation) -> Plan:
    calls = [call for call in conv.current.calls if call.name == "get_user_context" and call.output is not None]
    if not calls:
        return Plan(calls=(ToolRequest("get_user_context", {}),))
    if calls[-1].error:
        return Plan(answer=f"I couldn't read your profile: {calls[-1].error}.")
    return Plan(answer=context_answer(intent.topic, calls[-1].output or {}))


def plan_change(intent: ChangeIntent, conv: Conversation) -> Plan:
    """List, pick the todo(s) the user means, change them, then report from the tool outputs."""
    if conv.current.mutations:
        return Plan(answer=report_changes(conv, count_open=intent.action == "complete"))
    todos = fetch_all(conv, None)
    if isinstance(todos, Plan):
        return todos
    refs = RefContext(shown_list(conv.history, conv.today), recent_subjects(conv.history, conv.today))
    choice, found = choose(intent, todos, refs)
    if found.problem or not found.todos:
        return Plan(answer=found.problem or no_match_answer(choice.ref, todos))
    return act(intent.action, choice.value, found.todos)


def act(action: Action, value: str | None, targets: Sequence[Todo]) -> Plan:
    """The calls that carry out `action` on the picked todos, or the answer when none are needed."""
    if action == "status":
        return Plan(answer=" ".join(status_answer(todo) for todo in targets))
    if action == "delete":
        return Plan(calls=tuple(delete_request(todo.id) for todo in targets))
    if action in ("complete", "reopen"):
        done = action == "complete"
        to_change = [todo for todo in targets if todo.completed != done]
        if not to_change:
            return Plan(answer=already_answer(targets, done))
        return Plan(calls=tuple(update_request(todo.id, completed=done) for todo in to_change))
    if len(targets) > 1:  # one new title, date or note for several todos is surely a misreading
        return Plan(answer=which_one_answer("that", targets))
    target = targets[0]
    if action == "rename":
        if value == target.title:
            return Plan(answer=f'It\'s already called "{target.title}".')
        return Plan(calls=(update_request(target.id, title=value),))
    if action == "due":
        return Plan(calls=(update_request(target.id, due_date=value),))
    return Plan(calls=(update_request(target.id, description=value),))


def plan_bulk(intent: BulkIntent, conv: Conversation) -> Plan:
    """ "clear completed" and friends: list every matching todo (all pages), then one call each."""
    if conv.current.mutations:
        return Plan(answer=report_changes(conv, count_open=intent.action == "complete"))
    todos = fetch_all(conv, intent.completed)
    if isinstance(todos, Plan):
        return todos
    if not todos:
        return Plan(answer=NOTHING_FOR_BULK[intent.action, intent.completed])
    if intent.action == "delete":
        return Plan(calls=tuple(delete_request(todo.id) for todo in todos))
    return Plan(calls=tuple(update_request(todo.id, completed=intent.action == "complete") for todo in todos))


def plan_undo(conv: Conversation) -> Plan:
    """Reverse the latest turn that changed something: reopen what it completed, complete what it
    reopened, delete what it added, re-add what it deleted, restore old titles and dates."""
    if conv.current.mutations:
        return Plan(answer=f"Undid your last change. {report_changes(conv)}")
    index = next((i for i in reversed(range(len(conv.history))) if conv.history[i].changed), None)
    if index is None:
        return Plan(answer="There's no recent change in this conversation that I can undo.")
    requests = []
    for call in conv.history[index].mutations:
        request = inverse(call, snapshots(conv.turns, until=call))
        if request is not None:
            requests.append(request)
    if not requests:
        return Plan(answer="I can't undo that change, sorry - I don't know what it was before.")
    return Plan(calls=tuple(requests))


def inverse(call: PastCall, before: Mapping[str, Todo]) -> ToolRequest | None:
    """The call that reverses a successful `call`, given the todos as they were before it."""
    subject = call.subject
    if subject is None:
        return None
    if call.name == "add_todo":
        return delete_request(subject.id)
    old = before.get(subject.id)
    if call.name == "delete_todo":
        restored = old or subject
        return add_request(NewTodo(restored.title, restored.description, restored.due_date))
    changes: dict[str, Any] = {}
    if call.arguments.get("completed") is not None:
        changes["completed"] = old.completed if old else not call.arguments["completed"]
    if old and call.arguments.get("title") is not None:
        changes["title"] = old.title
    if old and old.due_date and call.arguments.get("due_date") is not None:
        changes["due_date"] = old.due_date
    if old and old.description and call.arguments.get("description") is not None:
        changes["description"] = old.description
    return update_request(subject.id, **changes) if changes else None


def snapshots(turns: Sequence[Turn], until: PastCall | None = None) -> dict[str, Todo]:
    """Each todo as last seen in tool outputs before `until` (to know what a change replaced)."""
    seen: dict[str, Todo] = {}
    for call in itertools.chain.from_iterable(turn.calls for turn in turns):
        if call is until:
            break
        seen.update((todo.id, todo) for todo in call.listed)
        if call.name in ("add_todo", "update_todo") and (todo := call.subject):
            seen[todo.id] = todo
    return seen


# ----------------------------------------------------------------------------------------------
# Answers, written from tool outputs
# ----------------------------------------------------------------------------------------------

CAPABILITIES = (
    "I can add todos (with notes and due dates), show your list (all, open or done), mark todos done or "
    "not done, rename them, change their due dates or notes, delete them, clear completed ones, and undo "
    "the last change."
)
REPLIES: dict[ReplyKind, str] = {
    "greeting": f"Hi! I'm your todo assistant. {CAPABILITIES} What would you like to do?",
    "thanks": "You're welcome! Anything else for your list?",
    "bye": "Bye! Your list will be here when you come back.",
    "ack": "OK! Tell me whenever you want to change something on your list.",
    "help": f'{CAPABILITIES} For example: "add buy milk tomorrow", "what\'s left?", "mark the first one done", '
    '"rename milk to oat milk" or "clear completed".',
    "unclear": f"Sorry, I'm not sure what you'd like me to do, so I haven't changed anything. {CAPABILITIES}",
    "refuse": "I can only see and change your own todos, so I can't help with that. "
    "Is there anything on your list I can do?",
    "too_long": 'That message is too long for me to act on. Please send one short request, like "add buy milk" '
    'or "show my list".',
    "need_date": 'When should it be due? Give me a date like "tomorrow", "Friday" or "2026-12-01".',
    "need_title": 'What should I add? For example: "add buy milk tomorrow".',
    "declined": "OK, I haven't added anything.",
    "profile": "I can't change your account or profile (name, timezone, preferences) from here - only your "
    'todos. I can tell you what is set, though: ask "what do you know about me?".',
}
NOTHING_FOR_BULK: dict[tuple[BulkAction, bool | None], str] = {
    ("delete", True): "You have no completed todos to clear.",
    ("delete", False): "You have no open todos to delete.",
    ("delete", None): "Your list is already empty.",
    ("complete", False): "Everything is already done - you have no open todos.",
    ("reopen", True): "None of your todos are marked as done.",
}
_ONE_CHANGED = {"added": "Added {}.", "completed": "Marked {} as done.", "reopened": "Reopened {}.",
                "deleted": "Deleted {}."}  # fmt: skip
_MANY_CHANGED = {"added": "Added {n} todos: {}.", "completed": "Marked {n} todos as done: {}.",
                 "reopened": "Reopened {n} todos: {}.", "deleted": "Deleted {n} todos: {}."}  # fmt: skip


def list_answer(intent: ListIntent, todos: Sequence[Todo]) -> str:
    shown = visible(intent, todos)
    if intent.due_label and due_in_window(intent, todos):
        header = f"Due {intent.due_label}: {plural(len(shown), 'open todo')}."
    elif intent.due_label and shown:
        header = f"Nothing is due {intent.due_label}. All your open todos ({len(shown)}):"
    elif not shown:
        return {
            None: "Your todo list is empty. Want me to add something?",
            False: "Nothing left to do - you have no open todos.",
            True: "You haven't completed any todos yet.",
        }[intent.completed]
    elif intent.completed is None:
        done = sum(todo.completed for todo in shown)
        header = f"You have {plural(len(shown), 'todo')} ({len(shown) - done} open, {done} done):"
    elif intent.completed:
        header = f"You've completed {plural(len(shown), 'todo')}:"
    else:
        header = f"You have {plural(len(shown), 'open todo')}:"
    lines = [f"{index}. {_line(todo, intent.completed is None)}" for index, todo in enumerate(shown, 1)]
    return "\n".join([header, *lines])


def _line(todo: Todo, mark_done: bool) -> str:
    due = f" (due {describe_day(todo.due_date)})" if todo.due_date else ""
    return f"{todo.title}{due}{' [done]' if mark_done and todo.completed else ''}"


def report_changes(conv: Conversation, *, count_open: bool = False) -> str:
    """What this turn's add/update/delete calls did, from their outputs; failures said plainly."""
    calls = conv.current.mutations
    before = snapshots(conv.turns, until=calls[0])
    grouped: dict[str, list[str]] = {}
    others: list[str] = []
    for call in calls:
        if call.error:
            others.append(_failure(call, before))
            continue
        for group, text in _change_phrases(call, before):
            if group in _ONE_CHANGED:
                grouped.setdefault(group, []).append(text)
            else:
                others.append(text)
    sentences = [
        (_ONE_CHANGED if len(items) == 1 else _MANY_CHANGED)[group].format(join_items(items), n=len(items))
        for group, items in grouped.items()
    ]
    if count_open and (remaining := _open_after(conv)) is not None:
        others.append(
            "Everything on your list is done!" if remaining == 0 else f"You have {plural(remaining, 'open todo')} left."
        )
    return " ".join(sentences + others)


def _change_phrases(call: PastCall, before: Mapping[str, Todo]) -> list[tuple[str, str]]:
    """(group, text) pairs for one successful change: the todos of a group ("added", "deleted", ...)
    are listed in one sentence; anything else is its own sentence."""
    todo = call.subject
    if todo is None:
        return []
    if call.name == "add_todo":
        return [("added", f'"{todo.title}"' + (f" (due {describe_day(todo.due_date)})" if todo.due_date else ""))]
    if call.name == "delete_todo":
        return [("deleted", f'"{todo.title}"')]
    old = before.get(todo.id)
    args = call.arguments
    phrases: list[tuple[str, str]] = []
    if args.get("title") is not None and old and old.title != todo.title:
        phrases.append(("sentence", f'Renamed "{old.title}" to "{todo.title}".'))
    if args.get("completed") is not None:
        phrases.append(("completed" if todo.completed else "reopened", f'"{todo.title}"'))
    if args.get("due_date") is not None:
        phrases.append(("sentence", f'"{todo.title}" is now due {describe_day(todo.due_date or "")}.'))
    if args.get("description") is not None:
        phrases.append(("sentence", f'Updated the notes on "{todo.title}": {(todo.description or "").rstrip(".")}.'))
    return phrases or [("sentence", f'Updated "{todo.title}".')]


def _failure(call: PastCall, before: Mapping[str, Todo]) -> str:
    verb = {"add_todo": "add", "delete_todo": "delete"}.get(call.name, "update")
    known = before.get(str(call.arguments.get("todo_id")))
    title = call.arguments.get("title") if call.name == "add_todo" else known.title if known else None
    title = f"{title[:57]}..." if isinstance(title, str) and len(title) > 60 else title
    what = f'"{title}"' if title else "that todo"
    return f"I couldn't {verb} {what}: {call.error}."


def _open_after(conv: Conversation) -> int | None:
    """Open todos left after this turn's changes, when this turn listed them all (else unknown)."""
    listed = [call for call in conv.current.calls if call.name == "list_todos" and call.output]
    if not listed or listed[-1].arguments.get("completed") is True:
        return None
    state = {todo.id: todo for todo in conv.current.listing()}
    for call in conv.current.mutations:
        if (todo := call.subject) is None:
            continue
        if call.name == "delete_todo":
            state.pop(todo.id, None)
        else:
            state[todo.id] = todo
    return sum(not todo.completed for todo in state.values())


def status_answer(todo: Todo) -> str:
    state = "is done" if todo.completed else "isn't done yet"
    due = f" It's due {describe_day(todo.due_date)}." if todo.due_date else ""
    return f'"{todo.title}" {state}.{due}'


def already_answer(todos: Sequence[Todo], done: bool) -> str:
    titles = quoted([todo.title for todo in todos])
    verb = "is" if len(todos) == 1 else "are"
    return f"{titles} {verb} already done." if done else f"{titles} {verb} not marked as done, so nothing to reopen."


def context_answer(topic: Topic, context: Mapping[str, Any]) -> str:
    name, timezone = context.get("display_name"), context.get("timezone")
    preferences = context.get("preferences") or {}
    parts = {
        "name": f"Your name is {name}." if name else "I don't know your name - it isn't set in your profile.",
        "timezone": f"Your timezone is {timezone}." if timezone else "Your timezone isn't set in your profile.",
        "preferences": (
            "Your preferences: " + ", ".join(f"{key}: {value}" for key, value in preferences.items()) + "."
            if preferences
            else "You haven't set any preferences."
        ),
        "date": f"Today is {describe_day(str(context.get('today')))}." if context.get("today") else "",
    }
    if topic == "all":
        return " ".join(text for text in parts.values() if text)
    return parts[topic] or "I don't know that."


def no_match_answer(text: str, todos: Sequence[Todo]) -> str:
    if not todos:
        return f'Your list is empty, so there\'s no todo matching "{text}".'
    titles = quoted([todo.title for todo in todos])
    return f"I couldn't find a todo matching \"{text}\", so I haven't changed anything. Your list has: {titles}."


def which_one_answer(text: str, candidates: Sequence[Todo]) -> str:
    options = quoted([todo.title for todo in candidates], conjunction="or")
    return f'More than one todo matches "{text}": {options}. I haven\'t changed anything yet - which one do you mean?'


def unclear_reference_answer(text: str) -> str:
    return f'I\'m not sure which todo you mean by "{text}". Which one do you mean?'


def no_position_answer(text: str, base: Sequence[Todo]) -> str:
    if not base:
        return f'Your list is empty, so there\'s no "{text}".'
    return f'There\'s no "{text}" - the list has {plural(len(base), "todo")}.'


def gone_answer(titles: Sequence[str], todos: Sequence[Todo]) -> str:
    rest = f" Your list has: {quoted([todo.title for todo in todos])}." if todos else " Your list is empty."
    return f"{quoted(titles)} {'is' if len(titles) == 1 else 'are'} no longer on your list.{rest}"


def tool_missing_answer(name: str) -> str:
    return f"I can't do that right now: the {name} tool isn't available to me."


# ----------------------------------------------------------------------------------------------
# The Model adapter
# ----------------------------------------------------------------------------------------------


class OfflineModel(Model):
    """A deterministic `Model` that plans tool calls and answers from the conversation alone.

    Stateless, so one instance serves every turn and conversation concurrently.
    """

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> ModelResponse:
        return respond(system_instructions, input, tools, tracing)

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        for event in stream_events(respond(system_instructions, input, tools, tracing)):
            yield event


def respond(
    instructions: str | None, input: str | list[TResponseInputItem], tools: Sequence[Tool], tracing: ModelTracing
) -> ModelResponse:
    """One model call: read the conversation, plan the next step, render it as output items."""
    items = as_items(input)
    tool_names = frozenset(str(getattr(tool, "name", "")) for tool in tools)
    with generation_span(model=MODEL_NAME, model_config={}, disabled=tracing.is_disabled()) as span:
        plan = plan_next(read_conversation(instructions, items, tool_names))
        digest = hashlib.sha256(json.dumps([instructions, items], sort_keys=True, default=str).encode()).hexdigest()
        output = render(plan, digest)
        usage = estimate_usage(instructions, items, output)
        if tracing.include_data():
            span.span_data.input = items
            span.span_data.output = [item.model_dump(exclude_none=True) for item in output]
        span.span_data.usage = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    return ModelResponse(output=output, usage=usage, response_id=None)


def render(plan: Plan, digest: str) -> list[TResponseOutputItem]:
    """Output items with ids derived from the input, so the same input gives the same ids and a
    different conversation (or a later step of it) gives new ones."""
    if plan.calls:
        return [
            ResponseFunctionToolCall(
                type="function_call",
                call_id=f"call_{hashlib.sha256(f'{digest}:{index}'.encode()).hexdigest()[:24]}",
                name=call.name,
                arguments=json.dumps(call.arguments, ensure_ascii=False),
                status="completed",
            )
            for index, call in enumerate(plan.calls)
        ]
    text = ResponseOutputText(type="output_text", text=plan.answer, annotations=[], logprobs=[])
    return [
        ResponseOutputMessage(
            id=f"msg_{digest[:24]}", type="message", role="assistant", status="completed", content=[text]
        )
    ]


def estimate_usage(instructions: str | None, items: Sequence[dict[str, Any]], output: Sequence[Any]) -> Usage:
    """Rough token counts (about four characters a token), so usage metrics are not all zero."""
    input_tokens = _tokens(instructions or "") + _tokens(json.dumps(items, default=str))
    output_tokens = sum(_tokens(item.model_dump_json(exclude_none=True)) for item in output)
    return Usage(
        requests=1, input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def stream_events(response: ModelResponse) -> Iterator[TResponseStreamEvent]:
    """The Responses stream for a finished response, as the real API sends it: created, each item
    added / streamed / done (text in chunks of a few words), then completed with the full response."""
    final = _as_response(response)
    started = final.model_copy(update={"output": [], "status": "in_progress", "usage": None})
    sequence = itertools.count()
    yield ResponseCreatedEvent(type="response.created", response=started, sequence_number=next(sequence))
    yield ResponseInProgressEvent(type="response.in_progress", response=started, sequence_number=next(sequence))
    for index, item in enumerate(response.output):
        if isinstance(item, ResponseOutputMessage):
            yield from _message_events(item, index, sequence)
        elif isinstance(item, ResponseFunctionToolCall):
            yield from _function_call_events(item, index, sequence)
    yield ResponseCompletedEvent(type="response.completed", response=final, sequence_number=next(sequence))


def _message_events(item: ResponseOutputMessage, index: int, sequence: Iterator[int]) -> Iterator[TResponseStreamEvent]:
    text = item.content[0].text if isinstance(item.content[0], ResponseOutputText) else ""
    empty = ResponseOutputText(type="output_text", text="", annotations=[], logprobs=[])
    ids = {"item_id": item.id, "output_index": index, "content_index": 0}
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        output_index=index,
        sequence_number=next(sequence),
        item=item.model_copy(update={"content": [], "status": "in_progress"}),
    )
    yield ResponseContentPartAddedEvent(
        type="response.content_part.added", part=empty, sequence_number=next(sequence), **ids
    )
    for chunk in text_chunks(text):
        yield ResponseTextDeltaEvent(
            type="response.output_text.delta", delta=chunk, logprobs=[], sequence_number=next(sequence), **ids
        )
    yield ResponseTextDoneEvent(
        type="response.output_text.done", text=text, logprobs=[], sequence_number=next(sequence), **ids
    )
    yield ResponseContentPartDoneEvent(
        type="response.content_part.done", part=item.content[0], sequence_number=next(sequence), **ids
    )
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=item, output_index=index, sequence_number=next(sequence)
    )


def _function_call_events(
    item: ResponseFunctionToolCall, index: int, sequence: Iterator[int]
) -> Iterator[TResponseStreamEvent]:
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        output_index=index,
        sequence_number=next(sequence),
        item=item.model_copy(update={"arguments": "", "status": "in_progress"}),
    )
    yield ResponseFunctionCallArgumentsDeltaEvent(
        type="response.function_call_arguments.delta",
        item_id=item.call_id,
        output_index=index,
        delta=item.arguments,
        sequence_number=next(sequence),
    )
    yield ResponseFunctionCallArgumentsDoneEvent.model_validate(  # older openai releases also require `name`
        {
            "type": "response.function_call_arguments.done",
            "item_id": item.call_id,
            "output_index": index,
            "arguments": item.arguments,
            "name": item.name,
            "sequence_number": next(sequence),
        }
    )
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=item, output_index=index, sequence_number=next(sequence)
    )


def text_chunks(text: str, words_per_chunk: int = 4) -> list[str]:
    """The answer in deltas of a few words; joined, they are exactly the text."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    return ["".join(pieces[i : i + words_per_chunk]) for i in range(0, len(pieces), words_per_chunk)] or [text]


def _as_response(response: ModelResponse) -> Response:
    usage = ResponseUsage(
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        total_tokens=response.usage.total_tokens,
        input_tokens_details=InputTokensDetails.model_validate({"cached_tokens": 0, "cache_write_tokens": 0}),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )
    final = Response(
        id="offline",
        created_at=0,
        model=MODEL_NAME,
        object="response",
        output=list(response.output),
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=True,
        status="completed",
        usage=usage,
    )
    # Like the SDK's own fake model: the Model boundary has no response id, though `Response` wants one.
    object.__setattr__(final, "id", response.response_id)
    return final
