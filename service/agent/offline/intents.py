"""Intents: what the user wants, from their words alone (`parse_intent`), and then in the context of
our previous answer (`understand`): "the second one" answers our "which one?", "yes" accepts an offer.

The patterns cover many phrasings, so requests need no exact commands; a message that fits none of
them gets a polite "not sure" rather than a guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from service.agent.offline.conversation import Turn
from service.agent.offline.dates import date_value, extract_date, find_date
from service.agent.offline.text import NUMBER_WORDS, alternation, edit_distance, expand, normalize, strip_all
from service.matching import IRREGULAR, same_word, stem, words

MAX_MESSAGE_CHARS = 1000
"""Longer messages get a polite "too long": nothing that size is one todo request, and acting on a
fragment of it would be a guess."""

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
    limit: int | None = None
    """Show one page of this many ("the first 10"), from `offset`; None pages through them all."""
    offset: int | None = None
    more: bool = False
    """ "Next page", "show more": the page after the list shown last, which `understand` works out."""
    page: int | None = None


@dataclass(frozen=True)
class Choice:
    """One reading of a request: the todo the user means (their words) and the new value, if any.

    "rename go to gym to go swimming" has two readings; the planner keeps the one whose reference
    matches a todo best.
    """

    ref: str
    value: str | None = None
    antecedent: bool = False
    """Named in another clause of the message that a pronoun ("check both off") points back to."""
    correction: bool = False
    """The value corrects the todo's wording ("make that a dozen eggs"): its leading verb stays."""
    replaces: str | None = None
    """The words of the title the value takes the place of ("not bread, rolls"): only they change."""


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


Action_ = AddIntent | ChangeIntent | BulkIntent


@dataclass(frozen=True)
class MultiIntent:
    """Several actions in one message ("drop the yoga class and tick off the novel"), one per clause,
    planned together in one turn and answered from all their results."""

    parts: tuple[Action_, ...]


Intent = (
    AddIntent
    | ListIntent
    | ChangeIntent
    | BulkIntent
    | UndoIntent
    | ContextIntent
    | OfferAddIntent
    | ReplyIntent
    | MultiIntent
)

_OUT_OF_SCOPE_RE = re.compile(
    r"\b(?:other|another|different|all|every) (?:users?|accounts?)\b"
    r"|\b(?:other|another|different) (?:person|people)'?s?\b"
    r"|\b(?:someone|somebody|anyone|anybody|everyone|everybody) else'?s?\b|\b(?:everyone|everybody)'s\b"
    r"|\b(?:his|her|their) (?:todos?|to-?dos?|lists?|tasks?|account|data)\b"
    r"|\b(?!(?:my|today|tomorrow|tonight|yesterday|this|next|last|week|month|year|it|that|what|who|there|here"
    r"|one|let|he|she)'s\b)[\w.-]+'s (?:todos?|to-?dos?|(?:todo |to-do )?lists?|tasks?|account|data|profile)\b"
    r"|\buser[ _-]?(?:id|#|number)\b|\b(?:as|for|of) (?:user|account) \S"
    r"|\blog(?:ged)? ?in as \w|\bimpersonat|\bswitch (?:to )?(?:another |a different )?(?:user|account)\b"
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
    r"|(?:a |one )?(?:quick |last |small )?question|one (?:more |last )?thing|by the way|btw|fyi|real quick"
    r"|anyway|anyhow|(?:can|could|shall|may) (?:we|i)"
    r"|(?:no|nope|yes|yeah|yep|sure|right|well|alright|great|cool|perfect|thanks|thank you)(?=\s*[,.!;:-]))"
    r"\b[\s,!.:;-]*",
    re.I,
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thank you|thx|for me|now(?<!from now)|asap|right now|if you can|if possible"
    r"|ok|okay))+"
    r"[\s.!?]*$|[\s.!?]+$",
    re.I,
)


@functools.lru_cache(maxsize=512)
def parse_intent(message: str, today: date | None) -> Intent:
    """What the user wants, from their words alone (the conversation is consulted when planning)."""
    text = normalize(message)
    if len(text) > MAX_MESSAGE_CHARS:
        return parse_long(text, today)
    return _parse_text(text, today)


def _parse_text(text: str, today: date | None) -> Intent:
    if _OUT_OF_SCOPE_RE.search(text):
        return ReplyIntent("refuse")
    small_talk = parse_small_talk(text)
    if small_talk is not None:
        return small_talk
    request, greeted = strip_fillers(text)
    if not request:
        return ReplyIntent("greeting" if greeted else "unclear")
    return (
        parse_actions(request, today)
        or parse_message(request, today)
        or parse_small_talk(request)
        or offer_add(request, today)
        or single_request(request, today)
        or parse_request(correct_typos(request), today)
        or ReplyIntent("unclear")
    )


def _is_request(intent: Intent) -> bool:
    return not isinstance(intent, ReplyIntent | OfferAddIntent)


def single_request(text: str, today: date | None) -> Intent | None:
    """The one request among sentences of chatter ("I was at the shops ... Anyway, add X."), or
    None when there is no such sentence or more than one (acting on one of two would be a guess)."""
    parts = list(dict.fromkeys(sentences(text)))
    if len(parts) < 2:
        return None
    requests = [intent for intent in (_parse_text(part, today) for part in parts) if _is_request(intent)]
    return requests[0] if len(requests) == 1 else None


def parse_long(text: str, today: date | None) -> Intent:
    """A long message is acted on only when its request is short: the one request among sentences
    of chatter ("add X. By the way, ..."), or an add whose long part is its description."""
    if _OUT_OF_SCOPE_RE.search(text):
        return ReplyIntent("too_long")
    if (request := single_request(text, today)) is not None:
        return request
    if len(text) <= _LONG_ADD_MAX_CHARS:
        intent = _parse_text(text, today)
        if isinstance(intent, AddIntent) and len(intent.todos) == 1 and intent.todos[0].description:
            return intent
    return ReplyIntent("too_long")


_LONG_ADD_MAX_CHARS = 2500
"""Room for a description at the tool's limit (2000) plus its title; longer is surely not one todo."""
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END_RE.split(text) if len(part) <= MAX_MESSAGE_CHARS]


_COMMAND_WORDS = (
    "add", "show", "list", "todos", "todo", "tasks", "task", "items", "delete", "remove", "mark", "done",
    "complete", "completed", "finished", "finish", "rename", "reopen", "clear", "everything", "display",
    "what", "whats", "tomorrow", "today", "undo", "remind", "create", "change", "update", "move", "check",
    "tick", "pending", "open", "left", "remaining", "please", "anything", "reminder", "schedule",
)  # fmt: skip
_COMMAND_SET = frozenset(_COMMAND_WORDS)
_VOWELS = frozenset("aeiouy")


def correct_typos(text: str) -> str:
    """The message with misspelt command words fixed ("shwo my todso" -> "show my todos").

    Only tried once nothing else understood the message: a title may well contain "todd" or "shop".
    A word is fixed to the closest command word with its first letter, at most one slip away (two for
    long words); a three-letter word only when it has no vowel (so is no English word: "too" stays)
    and only by the letter it dropped ("shw" -> "show", "lst" -> "list").
    """
    return re.sub(r"[A-Za-z]{3,}", lambda match: _corrected(match[0]), text)


def _corrected(word: str) -> str:
    lower = word.lower()
    if lower in _COMMAND_SET:
        return word
    allowed = 1 if len(lower) <= 6 else 2
    candidates = [
        (distance, abs(len(known) - len(lower)), index, known)
        for index, known in enumerate(_COMMAND_WORDS)
        if known[0] == lower[0]
        and (len(lower) > 3 or (len(known) == 4 and not set(lower) & _VOWELS))
        and (distance := edit_distance(lower, known)) <= allowed
    ]
    return min(candidates)[-1] if candidates else word


def strip_fillers(text: str) -> tuple[str, bool]:
    """("Hi! Could you please add milk, thanks") -> ("add milk", greeted=True)."""
    greeted = False
    while match := _LEADING_FILLER_RE.match(text):
        greeted = greeted or bool(match["greet"])
        text = text[match.end() :]
    return strip_all(_TRAILING_FILLER_RE, text).strip(), greeted


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


@functools.lru_cache(maxsize=2048)  # a message's clauses are read again as it is cut differently
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
        or parse_correction(text, today)
    )


# --- messages of several clauses ----------------------------------------------------------------

PRONOUN_RE = re.compile(
    r"^(?:(?P<one>it|that|this|that one|this one|the one (?:i|you) just (?:added|created|made|mentioned|changed"
    r"|completed|did|ticked off|marked)|what (?:i|you) just added|the (?:new|last) one (?:i|you) (?:added|created"
    r"|made))|(?P<many>both|both of them|those two|those ones|all three"
    r"|(?:all of |both of )?(?:them|those|these)(?: all| both| two)?))$",
    re.I,
)
"""References that point back ("it", "both of them") rather than name a todo."""
_CLAUSE_BREAK_RE = re.compile(
    r"(?:\s*(?:[,;]|[.!?](?=\s))|\s+-{1,2})\s+(?:(?:and|but|so|then|and then|so please)\s+)?", re.I
)
_SUBJECT_WORDS = {"i", "we", "they", "he", "she", "you", "it", "there"}
_REMARK_LEADS = _SUBJECT_WORDS | {"because", "since", "cause", "cos", "coz", "but", "though", "although"}
_FINITE_WORDS = {"is", "are", "was", "were", "am", "has", "have", "had", "will", "would", "can", "could", "keeps",
                 "seems", "got", "s"}  # fmt: skip
_POINTING_WORDS = {"it", "that", "this", "them", "those", "these", "both"}
_ECHO_WORDS = _POINTING_WORDS | {
    "put", "add", "stick", "pop", "write", "note", "jot", "save", "set", "do", "make", "keep", "track", "record",
    "log", "down", "up", "please", "pls", "for", "me",
    "so", "on", "in", "to", "the", "my", "our", "a", "list", "todo", "todos", "go", "ahead", "one", "thanks",
    "thank", "you", "ok", "okay", "just", "too", "as", "well", "of", "change", "update", "accordingly", "back",
}  # fmt: skip


def clauses(text: str) -> list[str]:
    """ "remove the flights one, trip is cancelled" -> its clauses (none cut inside quotes)."""
    if '"' in text:
        return [text]
    return [part for part in _CLAUSE_BREAK_RE.split(text) if part.strip(" .!?")]


def is_remark(text: str, *, past: bool = True) -> bool:
    """A clause that tells rather than asks: "we ran out", "because it's her birthday", "the tap is
    leaking again", "the meeting moved" (unless not `past`: a list item may be "some canned tomatoes").
    It may name the todo a pronoun elsewhere means, but is no todo or request itself."""
    tokens = words(expand(text))
    if len(tokens) < 2:
        return False
    later = tokens[1:]
    return tokens[0] in _REMARK_LEADS or bool(set(later) & _FINITE_WORDS) or (past and any(map(_is_past, later)))


def _is_past(word: str) -> bool:
    return word in IRREGULAR or (word.endswith("ed") and len(word) > 4)


def is_echo(text: str) -> bool:
    """A clause that only points back at the rest of the message: "put it on the list", "set that"."""
    tokens = set(words(text))
    return bool(tokens & _POINTING_WORDS) and tokens <= _ECHO_WORDS


def parse_message(text: str, today: date | None) -> Intent | None:
    """The request in `text`, read whole or, when that finds no request or a change that swallowed a
    second clause ("done, mark it complete"), clause by clause."""
    whole = parse_request(text, today)
    if whole is None or isinstance(whole, ChangeIntent | ReplyIntent):
        return parse_clauses(text, today) or whole
    return whole


def parse_clauses(text: str, today: date | None) -> ChangeIntent | None:
    """A change asked for in one clause, with the others as context: "the tap is leaking again, mark
    it as not done" reopens the tap; "got the milk and the bread, check both off" both.

    Every clause must be a change, a remark, an echo or small talk, else the cut is wrong ("mark milk,
    eggs and bread as done") and None is returned. The command wins over statements; a pronoun in it
    may mean what another clause named.
    """
    parts = clauses(text)
    if len(parts) < 2:
        return None
    changes: list[tuple[str, ChangeIntent]] = []
    context: list[str] = []
    for clause in parts:
        part = strip_fillers(clause)[0] or clause  # "..., can you untick it?" asks "untick it"
        if parse_small_talk(part) or is_echo(part):  # "done, mark it complete": "done" only agrees
            continue
        intent = parse_request(part, today)
        if isinstance(intent, ChangeIntent):
            changes.append((part, intent))
        elif intent is not None:
            return None
        elif is_remark(part):
            context.append(clause)
        else:
            return None
    if not changes:
        return None
    changes.sort(key=lambda pair: (pair[1].tentative, _is_statement(*pair)))
    main = changes[0][1]
    others = [choice.ref for _, intent in changes[1:] if intent.action == main.action for choice in intent.choices]
    value = main.choices[0].value
    if not any(PRONOUN_RE.match(choice.ref) for choice in main.choices):
        # "I haven't finished the essay, untick it": "it" is the todo this message named, not another
        others = [ref for ref in others if not PRONOUN_RE.match(ref)]
    if all(PRONOUN_RE.match(choice.ref) for choice in main.choices):
        others += [clean_ref(part) for part in context]
        antecedents = tuple(Choice(ref, value, antecedent=True) for ref in others)
        return replace(main, choices=antecedents + main.choices)
    return replace(main, choices=main.choices + tuple(Choice(ref, value) for ref in others))


_ACTION_BREAK_RE = re.compile(
    r"(?:\s*[;,]|(?<=[.!?])|\s+-{1,2})\s+(?:(?:and|but|then|also|plus|so)\s+)*|\s+(?:and|then|also|plus|but)\s+"
    r"(?:(?:then|also|please|pls)\s+)*",
    re.I,
)
_NEW_ACTION_RE = re.compile(
    r"^(?:delete|remove|erase|mark|tick|cross|rename|reopen|untick|uncheck|unmark|move|reschedule|postpone|push"
    r"|complete|get rid of|check (?:off|[^ ]+ off)|add|put|remind|create)\b",
    re.I,
)
"""Verbs that start a new action after an add: "add X and delete Y" (but not "add pick up X and drop off Y")."""
_SUBJECT_RE = re.compile(r"^(?:i|we)\s+", re.I)


def parse_actions(text: str, today: date | None) -> MultiIntent | None:
    """Several actions, one per clause: "delete milk and mark eggs done", "I fed the fish and paid the
    gas bill", "picked up the parcel, and put 'call the vet' on the list".

    The message is cut at every clause break; a piece that is no action on its own ("eggs" in "add
    milk, eggs") joins the one before it, so lists and "mark X and Y done" stay one action. Pronouns
    ("check both off") point into other clauses, which `parse_clauses` reads; so does chatter.
    """
    pieces = _pieces(text)
    if not 2 <= len(pieces) <= _MAX_ACTIONS or any(_points_back(piece, today) for _, piece in pieces):
        return None
    units: list[Action_] = []
    buffer, current = pieces[0][1], _action(pieces[0][1], today)
    for separator, piece in pieces[1:]:
        subject = _SUBJECT_RE.match(buffer)
        if subject and not _SUBJECT_RE.match(piece) and _action(f"{subject.group()}{piece}", today):
            piece = f"{subject.group()}{piece}"  # "I fed the fish and paid the gas bill"
        following = _action(piece, today)
        if current is None or following is None or (isinstance(current, AddIntent) and not _NEW_ACTION_RE.match(piece)):
            buffer = f"{buffer}{separator}{piece}"
            current = _action(buffer, today)
            continue
        units.append(current)
        buffer, current = piece, following
    if current is None or not units:
        return None
    return MultiIntent((*units, current))


_MAX_ACTIONS = 8
"""More clauses than this are a story, not a list of actions (and each cut is read again)."""


def _pieces(text: str) -> list[tuple[str, str]]:
    """`text` cut at clause breaks, each piece with the separator before it (no cut inside quotes)."""
    pieces, start, separator = [], 0, ""
    for cut in _ACTION_BREAK_RE.finditer(text):
        if len(_QUOTE_RE.findall(text[: cut.start()])) % 2:
            continue
        pieces.append((separator, text[start : cut.start()]))
        start, separator = cut.end(), cut.group()
    pieces.append((separator, text[start:]))
    return [(sep, piece.strip(" .!?")) for sep, piece in pieces if piece.strip(" .!?")] or [("", text)]


_QUOTE_RE = re.compile(r"\"|(?<!\w)'|'(?!\w)")


def _points_back(text: str, today: date | None) -> bool:
    """ "check both off", "put it on the list": a clause about what another clause named."""
    request = strip_fillers(text)[0]
    intent = parse_request(request, today) if request else None
    pronoun = isinstance(intent, ChangeIntent) and any(PRONOUN_RE.match(choice.ref) for choice in intent.choices)
    return pronoun or is_echo(request)


def _action(text: str, today: date | None) -> Action_ | None:
    """`text` read as one action that changes the list, else None (questions, chatter, pronouns)."""
    request = strip_fillers(text)[0]
    intent = parse_request(request, today) if request else None
    if isinstance(intent, ChangeIntent):
        return None if intent.action == "status" else intent
    return intent if isinstance(intent, AddIntent | BulkIntent) else None


def _is_statement(text: str, intent: ChangeIntent) -> bool:
    """ "trip is cancelled" names its todo first; a command starts with its verb."""
    return text.lower().startswith(intent.choices[0].ref.lower())


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

_FOREIGN_ADD = (
    r"(?:r?ajout(?:e|er|ez)|a\u00f1ad(?:e|ir)|agreg(?:a|ar)|aggiung(?:i|ere)|f\u00fcge|hinzuf\u00fcgen"
    r"|adicion(?:a|e|ar)|voeg toe)"
)
"""The add verb in French, Spanish, Italian, German, Portuguese and Dutch: the title is kept as written."""
_ADD_RE = re.compile(
    rf"^(?:(?:add|adding|create|creating|insert|schedule|jot(?: down)?|write down|note down|set up|{_FOREIGN_ADD})"
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
    r"(?:\w+\s+)?(?:to[- ]?do\s+list|list|todos?|to-?dos?)\b(?P<rest>.*)$",
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
    r"(?:[\s,]+(?:please|pls|thanks|thank you|for me|as well|too|also|asap|again|once more))+$|[\s.,;:!?]+$", re.I
)


def parse_add(text: str, today: date | None) -> Intent | None:
    """ "add X", "remind me to X", "put X and Y on my list", "I need to X"; None if not an add."""
    if match := _ADD_RE.match(text):
        body = match["body"]
    elif (match := _PUT_RE.match(text)) and not re.search(r"\bback$", match["body"], re.I):
        body = f"{match['body']} {match['rest']}"
    elif match := _NEED_RE.match(text):
        body = match["body"]
        manages = _MANAGE_VERB_RE.match(body) or _FRESH_START_RE.match(body)
        if manages and (request := parse_request(body, today)) is not None:
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
    body = _LIST_INTRO_RE.sub("", " ".join(_LIST_WRAPPER_RE.sub(" ", body).split()))
    body, aside_day = drop_asides(body, today)
    for pattern in _ADDED_DESCRIPTION_RES:
        if match := pattern.match(body):
            due, title = extract_date(match["title"], today)
            title = clean_title(title)
            description = match["desc"].strip()
            return (NewTodo(title, description, _iso(due or aside_day)),) if title and description else ()
    return tuple(NewTodo(title, None, _iso(due or aside_day)) for title, due in split_items(body, today) if title)


_LIST_INTRO_RE = re.compile(
    r"^(?:all |each of |both of )?(?:(?:these|those|the following|following)(?: \d{1,2}| "
    rf"(?:{alternation(NUMBER_WORDS)}))?|this list|the list|this lot|a few|some|several|multiple|a couple)"
    r"(?: (?:items|things|todos|to-?dos|tasks|ones|bits|of these))?\s*:\s*",
    re.I,
)
_CLAUSE_CUT_RE = re.compile(r"\s*[,;]\s*")


def drop_asides(body: str, today: date | None) -> tuple[str, date | None]:
    """Cut the clauses that are no items from an add: remarks ("we ran out") and echoes ("put it on
    the list"). A date they carry ("it's due Friday") still counts for the todos."""
    segments = _CLAUSE_CUT_RE.split(body)
    kept = [segments[0]] + [segment for segment in segments[1:] if not _is_aside(segment)]
    if len(kept) == len(segments):
        return body, None
    asides = [segment for segment in segments[1:] if _is_aside(segment)]
    day = next((found.day for aside in asides if (found := find_date(aside, today))), None)
    return ", ".join(kept), day


def _is_aside(text: str) -> bool:
    return is_echo(text) or is_remark(text, past=False)


_DISTRIBUTIVE_RE = re.compile(
    r"^(?P<verb>(?:buy|get|grab|order|purchase|pick up|collect|fetch|book|pay|renew|return)\s+)(?P<object>\S.*)$",
    re.I,
)
_LEADING_VERB_RE = re.compile(rf"^(?P<verb>(?:{'|'.join(sorted(_TODO_VERBS))})\s+)(?P<object>\S.*)$", re.I)
_SHARED_OBJECT_MAX_WORDS = 3


def split_items(body: str, today: date | None) -> list[tuple[str, date | None]]:
    """ "milk, eggs and bread" is three todos; "call mom and dad" is one; "buy milk and eggs" is
    "Buy milk" and "Buy eggs".

    With commas it is a list. With only "and", the parts are separate todos when they look alike:
    all single words ("milk and eggs") or all phrases ("buy milk and call mom"), or when each later
    part starts a new action ("milk and call mom"), or is a short object for a verb like "buy" to
    share. A date that only the last part carries applies to every part ("call mom and email dad
    tomorrow").
    """
    parts = [part for part in _ITEM_SEPARATOR_RE.split(body) if part and part.strip() and not is_echo(part)]
    listed = "," in body or ";" in body
    dated = [extract_date(part, today) for part in parts]
    dated = list(zip([due for due, _ in dated], _share_verb([rest for _, rest in dated], listed), strict=True))
    sizes = {min(len(rest.split()), 2) for _, rest in dated}
    listed = listed or _starts_actions(parts[1:])
    if len(parts) < 2 or (not listed and len(sizes) > 1):
        due, rest = extract_date(body, today)
        return [(clean_title(rest), due)]
    shared = dated[-1][0] if all(due is None for due, _ in dated[:-1]) else None
    return [(clean_title(rest), due or shared) for due, rest in dated]


def _share_verb(parts: list[str], listed: bool) -> list[str]:
    """ "buy milk", "eggs" -> "buy milk", "buy eggs": short bare objects after the first item's verb.

    In a comma list any to-do verb is shared ("call mom, dad and grandma"); with only "and", just
    verbs whose objects are separate errands, since "call mom and dad" is one call.
    """
    first = _TITLE_LEAD_RE.sub("", parts[0]) if len(parts) > 1 else ""
    match = _DISTRIBUTIVE_RE.match(first) or (_LEADING_VERB_RE.match(first) if listed else None)
    if match is None:
        return parts
    objects = parts[1:]  # one may be empty: it was only a date ("..., due tomorrow")
    if any(len(words(part)) > _SHARED_OBJECT_MAX_WORDS or _starts_actions([part]) for part in objects):
        return parts
    return [parts[0], *(f"{match['verb']}{part.strip()}" if part.strip() else part for part in objects)]


def _starts_actions(parts: Sequence[str]) -> bool:
    """Every part begins with a to-do verb ("call mom", "pay rent"): each is a todo of its own."""
    return bool(parts) and all((tokens := words(part)) and tokens[0] in _TODO_VERBS for part in parts)


def clean_title(text: str) -> str:
    """A title as a person would write it: no "to ..." lead-in, no quotes, first letter capitalised."""
    text = strip_all(_TITLE_TAIL_RE, _TITLE_LEAD_RE.sub("", text.strip()))
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
    (
        "name",
        re.compile(
            r"\bwho am i\b|\bmy (?:display |full |first )?name\b|\bwhat do you call me\b"
            r"|\bname (?:do|have|did) you (?:have|got|know|use|see)\b|\bwhat am i called\b",
            re.I,
        ),
    ),
    ("timezone", re.compile(r"\btime ?zone\b|\bwhere am i\b|\bwhat (?:time|zone) am i in\b|\bmy tz\b", re.I)),
    ("preferences", re.compile(r"\bmy (?:preferences|prefs|settings)\b", re.I)),
    (
        "date",
        re.compile(
            r"\bwhat is (?:the )?(?:date|day)\b|\b(?:what|which) day(?: of the week)? is (?:it|today)\b"
            r"|\btoday'?s date\b|\bwhat is today$|\bwhat time is it\b",
            re.I,
        ),
    ),
    (
        "all",
        re.compile(
            r"\babout me\b|\bmy (?:profile|details|info|information|account|settings)\b|\babout myself\b"
            r"|\b(?:info|information|details|data|anything) (?:do you have |have you got |you have |you hold )?"
            r"(?:on|of|about|for) me\b|\bwhat do you (?:know|have) (?:on|of) me\b|\bknow who i am\b",
            re.I,
        ),
    ),
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
                 "scrap", "ditch", "toss", "dump", "kill", "scratch",
                 "rid", "bin", "nuke", "deleting", "removing", "clearing"}  # fmt: skip
_COMPLETE_WORDS = {"complete", "finish", "finished", "mark", "tick", "check", "cross", "did"}
_ASKING_WORDS = {"list", "show", "what", "which", "how", "display", "view", "see", "is", "are", "have", "has", "did",
                 "do"}  # fmt: skip
_REOPEN_WORDS = {"reopen", "uncheck", "untick", "unmark", "undone", "uncomplete", "incomplete"}
_SCOPE_WORDS = {"all", "everything", "every", "whole", "entire", "each", "lot"}
_DONE_WORDS = {"done", "completed", "complete", "finished", "ticked", "checked", "crossed", "accomplished"}
_OPEN_WORDS = {"open", "pending", "unfinished", "outstanding", "remaining", "active", "left", "still", "need",
               "needs", "incomplete", "undone"}  # fmt: skip
_NEGATIONS = {"not", "no", "yet"}
_GENERIC_WORDS = {
    "the", "my", "of", "todos", "todo", "tasks", "task", "items", "item", "ones", "one", "things", "thing",
    "list", "from", "off", "on", "in", "as", "to", "be", "is", "are", "was", "were", "get", "up", "out", "a",
    "already", "which", "have", "has", "been", "i", "me", "now", "entries", "entry", "stuff", "with", "am",
    "everything", "all", "every", "whole", "entire", "each", "not", "away", "go", "ahead", "and", "that", "by",
}  # fmt: skip
_BULK_FILLER = {"single", "today", "tonight", "just", "finally", "lot", "out", "can", "you"}
"""Words a bulk request may carry that change nothing about it: "I finished every single task today"."""
_BULK_VOCAB = (
    _DELETE_WORDS | _COMPLETE_WORDS | _REOPEN_WORDS | _DONE_WORDS | _OPEN_WORDS | _GENERIC_WORDS | _BULK_FILLER
)
_FRESH_START_RE = re.compile(
    r"^(?:(?:i|we) (?:want|would like|need) to |let'?s |let me )?(?:start (?:(?:all )?over|again|afresh|fresh"
    r"|from scratch)|(?:a )?(?:clean slate|fresh start))(?: with (?:an? )?(?:empty|blank|clean|new) list)?$",
    re.I,
)
"""A fresh start is a cleared list (and a bulk delete asks first where approvals are on)."""


def parse_bulk(text: str) -> BulkIntent | None:
    """ "clear completed", "mark everything done", "delete all my todos", "reopen all"."""
    if _FRESH_START_RE.match(text):
        return BulkIntent("delete", None)
    tokens = words(text)
    bag = set(tokens)
    if not bag <= _BULK_VOCAB or not tokens or tokens[0] in _ASKING_WORDS or "show" in bag:
        return None
    scoped = bool(bag & _SCOPE_WORDS)
    if bag & _DELETE_WORDS and (scoped or bag & (_DONE_WORDS | _OPEN_WORDS) or "list" in bag):
        return BulkIntent("delete", _bulk_delete_filter(bag))
    if scoped and (bag & _REOPEN_WORDS or ("not" in bag and bag & _DONE_WORDS)):
        return BulkIntent("reopen", True)
    if scoped and (
        bag & _COMPLETE_WORDS or (bag & _DONE_WORDS and bag & {"everything", "todos", "tasks", "i", "them"})
    ):
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
    "what", "whats", "how", "many", "much", "s", "do", "does", "did", "got", "for", "there", "give",
    "see", "view", "display", "read", "print", "tell", "can", "you", "please", "current", "again", "so", "far",
    "yet", "t", "isn", "aren", "haven", "ve", "any", "remind", "know", "let", "look", "at", "like", "should",
    "must", "d", "today", "tonight", "tomorrow", "this", "week", "next", "late", "past", "by", "before", "until",
    "need", "needs", "still", "complete", "checked", "ticked", "full", "shopping", "over",
    "summary", "status", "overview", "state", "we", "our", "an", "will", "would", "else", "single", "them",
    "just", "only", "including", "include", "incl",
}  # fmt: skip
_INCLUSIVE_WORDS = {"including", "include", "incl"}


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
    if not text:
        return None
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


def parse_list(text: str, today: date | None) -> ListIntent | None:
    """ "what's left", "show my todos", "show me the first 10", "anything due tomorrow?"."""
    if (more := parse_more(text)) is not None:
        return more
    if not (limit := _LIMIT_RE.search(text)):
        return _parse_list_words(text, today)
    rest = f"{text[: limit.start()]} {text[limit.end() :]}"
    intent = _parse_list_words(rest, today)
    count = _count(limit["first"] or limit["bare"])
    return replace(intent, limit=count) if intent and count else intent


def _parse_list_words(text: str, today: date | None) -> ListIntent | None:
    tokens = words(re.sub(r"\bto[- ]do\b(?=[- ]?(?:list|items?)\b)|\bto-do\b", "todo", text, flags=re.I))
    bag = set(tokens)
    asks_what = bool(bag & {"what", "which"} and bag & {"have", "need", "got", "do"})
    if not tokens or tokens[0] in {"it", "that", "this", "these", "those", "they"}:  # "that's done" is about a todo
        return None
    if bag & {"them", "those", "these"} and not bag & {"show", "list", "what", "which", "how"}:
        return None  # "all of them are done now" tells, about the todos just seen
    if tokens[0] in {"i", "we"} and not bag & {"what", "which", "how", "show", "anything", "list"}:
        return None  # "I finished" is a statement, not a question
    if not bag <= _LIST_VOCAB or not (bag & _LIST_SIGNALS or asks_what or ("how" in bag and "many" in bag)):
        return None
    phrase = " ".join(tokens)
    negated = bool(bag & _NEGATIONS) or tokens[0] in {"is", "are"}  # "is everything done?": show what is not
    if bag & _INCLUSIVE_WORDS:  # "all my todos, including the done ones"
        return ListIntent()
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
        r"(?P<ref>.+?)(?: yet| after all| actually| really)*$",
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
        r"^(?P<ref>.+?)\s+(?:is|are|was|has been|have been|got)?\s*(?:now |all |both |finally |already |been )*(?:done"
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
    return strip_all(_REF_WRAPPER_RE, text.strip(" \"'-:,;."), " -:,;.").strip("\"'")


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
        r"^(?:set|put|give|add)\s+(?:a\s+|the\s+)?(?:due date|deadline)\s+(?:of\s+|on\s+)?(?P<date>.+?)\s+"
        r"(?:for|on|to)\s+(?P<ref>.+)$",
        re.I,
    ),
    re.compile(
        r"^(?P<ref>.+?)\s+(?:is|are|should be|will be|needs to be done|has to be done)\s+(?:now\s+)?(?:done\s+)?"
        r"(?:due\s+)?(?P<date>(?:by|on|before)\s+.+|due\s+.+)$",
        re.I,
    ),
)
_INSTEAD_RE = re.compile(r"\s+instead$", re.I)
_REF_TAIL_RE = re.compile(r"(?:\s+(?:to|until|till|for|by|on|due|is|as|back))+$", re.I)


def parse_due(text: str, today: date | None) -> ChangeIntent | ReplyIntent | None:
    """ "move X to Friday", "push X back to next week", "X is due tomorrow"."""
    for pattern in _DUE_STATEMENT_RES:
        if (match := pattern.match(text)) and (day := date_value(match["date"], today)):
            return ChangeIntent("due", (Choice(clean_ref(match["ref"]), day.isoformat()),))
    if not (match := _DUE_VERB_RE.match(text)):
        return None
    body = _INSTEAD_RE.sub("", match["body"])  # "move it to Friday instead"
    found = find_date(body, today)
    if found is None or found.end != len(body.rstrip(" .!?")):
        return ReplyIntent("need_date") if re.search(r"\s(?:to|until|till)\s", body, re.I) else None
    ref = clean_ref(_REF_TAIL_RE.sub("", body[: found.start].strip()))
    return ChangeIntent("due", (Choice(ref, found.day.isoformat()),)) if ref else None


_SAYS_SEPARATOR = r"\s+so (?:that )?it (?:says|reads)\s+"
"""Between the todo and its new wording: "change X so it says Y"."""
_RENAME_RES = (
    (
        re.compile(r"^(?:rename|renaming|retitle|relabel)\s+(?P<body>.+)$", re.I),
        rf"\s+(?:to|as|into)\s+|\s*[-=]>\s*|{_SAYS_SEPARATOR}",
    ),
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
_MAKE_THAT_RE = re.compile(r"^make (?P<ref>that|it|this)(?: one)? (?:say |read |into )?(?P<value>(?!due\b).+)$", re.I)
"""A correction of what was just said or added: "make that a dozen eggs", "make it Friday"."""
_CHANGE_SEPARATOR = rf"\s+to (?:say|read)\s+|{_SAYS_SEPARATOR}|\s+(?:to|into|with)\s+|\s*->\s*"


def parse_rename(text: str, today: date | None) -> ChangeIntent | None:
    """ "rename X to Y", "call X Y instead", and the open-ended "change X to Y", where the new value
    decides the kind of change: "change X to Friday" moves the due date, "change X to done" completes it."""
    for pattern, separator in _RENAME_RES:
        if (match := pattern.match(text)) and (choices := _cut_choices(match["body"], separator)):
            return _renamed(choices)
    if made := _MAKE_THAT_RE.match(text):
        choices = (Choice(made["ref"], made["value"], correction=True),)
    elif not (match := _CHANGE_RE.match(text)) or not (choices := _cut_choices(match["body"], _CHANGE_SEPARATOR)):
        return None
    last = choices[-1]  # the shortest value: "friday" in "change go to gym to friday"
    if day := date_value(last.value or "", today):
        return ChangeIntent("due", (replace(last, value=day.isoformat()),))
    if re.fullmatch(_DONE_STATE, last.value or "", re.I):
        return ChangeIntent("complete", (Choice(last.ref),))
    if re.fullmatch(_OPEN_STATE, last.value or "", re.I):
        return ChangeIntent("reopen", (Choice(last.ref),))
    return _renamed(choices)


_NOT_OLD = r"(?:\s*,\s*|\s+-\s+|\s+)(?:and )?not (?:the )?(?P<old>[^,]+?)"
_CORRECTION_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        rf"^(?:i )?(?:meant|mean|said|typed|wrote)(?: to (?:say|write|type))?\s*:?\s+(?P<new>.+?)(?:{_NOT_OLD})?$",
        rf"^(?:(?:it|that|this) )?(?:should|was meant to|is meant to|was supposed to) (?:have been|be|say|read)\s+"
        rf"(?P<new>.+?)(?:{_NOT_OLD})?$",
        r"^(?:it is |it was )?not (?:the )?(?P<old>.+?)\s*[,;-]\s*(?:but |i meant |it is |it should be )?(?P<new>.+)$",
        rf"^(?:it is |it was |i meant |i said )?(?P<new>[^,]+?){_NOT_OLD}$",
        r"^(?P<old>.+?) should (?:be|have been|say|read) (?P<new>.+)$",
        r"^(?:replace|swap|switch) (?:the )?(?P<old>.+?) (?:with|for) (?P<new>.+)$",
        r"^(?P<new>.+?) instead of (?:the )?(?P<old>.+)$",
        r"^(?:correction|typo|spelling)\s*:\s*(?:(?P<old>.+?)\s*(?:->|=>|to|should be)\s*)?(?P<new>.+)$",
    )
)
"""A fix phrased as a correction: "I meant oat milk", "not bread, rolls", "dentsit should be dentist".
Without the old words it corrects what was just added or changed ("that")."""


def parse_correction(text: str, today: date | None) -> ChangeIntent | None:
    for pattern in _CORRECTION_RES:
        if not (match := pattern.match(text)):
            continue
        old, new = (match.groupdict().get("old") or "").strip(" \"'"), match["new"].strip(" \"'.!")
        if parse_request(new, today) is not None or re.match(rf"{_DONE_STATE}|{_OPEN_STATE}\b", new, re.I):
            return None  # "mark milk done, not eggs", "the report should be done": no new wording
        if day := date_value(new, today):  # "no, I meant Thursday": the due date
            return ChangeIntent("due", (Choice("that" if not old or date_value(old, today) else old, day.isoformat()),))
        if new and not find_date(new, today):
            return ChangeIntent("rename", (Choice(old or "that", new, correction=True, replaces=old or None),))
    return None


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
        r"^when (?:is|was)\s+(?P<ref>.+?)\s+due(?: again)?$",
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
    if not _is_past(verb) or verb in _NOT_COMPLETION:
        return None
    if not (match["subject"] or match["adverb"] or verb in IRREGULAR or stem(verb) in _COMMON_DEEDS):
        return None
    return ChangeIntent("complete", (Choice(clean_ref(match["ref"])),), tentative=True)


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
    todos = new_todos(body, today) if body and not parse_small_talk(body) else ()  # not "thanks too"
    if todos and (verb := _shared_verb(previous.todos[-1].title, todos)):
        todos = new_todos(f"{verb} {body}", today)  # "buy milk" - "and eggs": "Buy eggs"
    return AddIntent(todos) if todos else None


def _shared_verb(title: str, todos: Sequence[NewTodo]) -> str | None:
    """The errand verb of `title` ("Buy milk") that short bare objects added after it share."""
    match = _DISTRIBUTIVE_RE.match(title)
    if match is None:
        return None
    for todo in todos:
        tokens = words(todo.title)
        if len(tokens) > _SHARED_OBJECT_MAX_WORDS or tokens[0] in _TODO_VERBS:
            return None
    return match["verb"].strip().lower()


def corrected_title(title: str, choice: Choice) -> str:
    """The title with the user's correction: only the replaced words change ("Buy bread" with "rolls,
    not bread" is "Buy rolls", "Call the dentsit" with "dentist" is "Call the dentist"); a whole new
    wording keeps the todo's verb ("Buy milk" - "I meant oat milk")."""
    wording = choice.value or ""
    if old := choice.replaces:
        literal = re.search(rf"\b{re.escape(old)}\b", title, re.I)
        fuzzy = (
            found for found in re.finditer(r"[\w'-]+", title) if same_word(stem(found[0].lower()), stem(old.lower()))
        )
        if spot := literal or (next(fuzzy, None) if len(old.split()) == 1 else None):
            return clean_title(f"{title[: spot.start()]}{wording}{title[spot.end() :]}")
    return clean_title(keep_leading_verb(title, wording))


def keep_leading_verb(title: str, wording: str) -> str:
    """ "Buy eggs" corrected to "a dozen eggs" is "Buy a dozen eggs": a new wording without a verb
    replaces what the todo is about, not what is to be done."""
    verb, _, rest = title.partition(" ")
    first = wording.split()[0] if wording.split() else ""
    if not rest or verb.lower() not in _TODO_VERBS or first.lower() in _TODO_VERBS:
        return wording
    if first != "I" and "'" not in first and first[1:] in ("", first[1:].lower()):  # "A dozen": only as a title
        wording = wording[:1].lower() + wording[1:]
    return f"{verb} {wording}"
