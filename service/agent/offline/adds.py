"""Reading adds: "add X", "remind me to X", "put X and Y on my list", "I need to X" - the todos in
them (lists, shared verbs, descriptions, due dates) - and how a correction rewords a title."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from service.agent.offline.chatter import is_echo, is_remark, parse_small_talk
from service.agent.offline.dates import ANY_DAY, date_value, extract_date, find_date
from service.agent.offline.intents import AddIntent, Choice, Intent, NewTodo, OfferAddIntent, ReplyIntent
from service.agent.offline.text import NUMBER_WORDS, alternation, strip_all
from service.agent.offline.vocabulary import ERRAND_VERBS, TABLES, patterns, verbs, vocab
from service.matching import same_word, stem, words

_ADD_VERBS = "|".join([verbs("add"), *TABLES["add"]["foreign"]])
_ADD_RE = re.compile(
    # "add to my list, please: X" names where, then what
    r"^(?:(?:put|stick|pop|write|jot|add)(?: (?:it|this|these))? (?:in|on|to|into|onto) (?:my|the) (?:\w+ )?list"
    r"(?:,? please)?(?=\s*:)"
    rf"|(?:{_ADD_VERBS})"
    r"(?: (?:a|an|another|one more|the|some|one(?= (?:new )?(?:todo|to-do|task|item|reminder|entry|note)))(?=\s))?"
    r"(?: new)?(?: (?:todo|to-do|task|item|reminder|entry|note)s?)?"
    r"(?: (?:to|for|that says|saying|called|named|titled|about|of))?"
    r"|(?:make|making) (?:a|an|another) (?:new )?(?:todo|to-do|task|item|reminder|note)"
    r"(?: (?:to|for|that says|saying|called|named|titled|about))?"
    r"|remind(?:ing)? me(?: (?:to|about|of|that i (?:need|have) to))?"
    r"|remember(?: to| that i (?:need|have) to)"
    r"|(?:do not|don'?t) (?:let me )?forget(?: to| about)?"
    r"|(?:put|set|pop|create|add) (?:in )?(?:a|an) (?:reminder|todo|task|note)(?: (?:to|for|about|that))?"
    r"|(?:new|another) (?:todo|to-do|task|item|reminder)s?|new one(?=\s*:)"
    r"|(?:put|stick|pop|throw|chuck|jot|write|note) (?:these|this lot|the following|them|this|that)(?: on| down| in)?"
    r"(?: for me)?(?=\s*:)"
    rf"|(?:(?:a few|some|several|\d+|{alternation(NUMBER_WORDS)}) )?(?:things|items|todos|tasks) to add(?=\s*:)"
    rf"|(?:{alternation(TABLES['add']['labels'])})(?: list)?(?=\s*:))"
    r"(?:\s*[:,-]\s*|\s+|$)(?P<body>.*)$",
    re.I,
)
_PUT_RE = re.compile(
    r"^(?:put|putting|stick|pop|throw|chuck|get|jot|write|note)\s+(?P<body>.+?)\s+(?:(?:on|onto|in|into)\s+"
    r"(?:(?:my|the|our)\s+(?:\w+\s+)?(?:to[- ]?do\s+list|list|todos?|to-?dos?)|there)|down"
    r"|(?:on|in)(?=\s+for\s+(?:the\s+|next\s+|this\s+)?(?:\d|mon|tue|wed|thu|fri|sat|sun|tomorrow|tmrw|today|tonight)))\b"
    r"(?P<rest>.*)$",
    re.I,
)
_ON_THE_LIST_RE = re.compile(
    r"^(?P<body>[^?.!:]+?)\s+(?:on|onto|to)\s+(?:my|the|our)\s+(?:(?:shopping|todo|to-do|to do|grocery)\s+)?list\b"
    r"(?P<rest>(?:\s*,?\s*(?:for|by|on|due|before|please|pls|thanks|thank you|cheers|ta)\b[^?]*)?)\W*$",
    re.I,
)
"""Things put on the list with no verb ("milk, eggs, bread on the list"); a question there asks ("is milk on
the list?")."""
_TELLING = frozenset({"is", "are", "was", "were", "has", "have", "had", "still", "already", "there", "too", "many"}) | {
    "lot",
    "i",
    "we",
    "you",
    "why",
    "how",
    "what",
    "which",
    "much",
    "so",
    "nothing",
    "anything",
    "everything",
}
"""Words of a sentence about the list ("milk is already on the list", "too many things on my list"), not of
things to put on it."""
_VERB_IN_IT_RE = re.compile(
    rf"\b(?:{verbs('add', 'complete', 'delete', 'reopen', 'rename', 'due')}|put|pop|stick)\b", re.I
)
NEED_RE = re.compile(
    r"^(?:(?:i|we)(?:'d|'ve| would| have)?\s+(?:really |also |still |just |definitely |probably )?)?"
    r"(?:need(?: to)?|have to|have got to|got to|gotta|must|should|ought to|want to|wanna|like to"
    r"|plan to|intend to)(?!\s+(?:i|we|you)\b)(?:\s*:)?\s+"
    # not what the user wants to know or how a title should read: "just want to see", "should read X"
    r"(?!(?:see|know|check|look|hear|ask|read|say|be)\b)(?P<body>.+)$",
    re.I,
)
_PLACEHOLDERS = vocab("add", "placeholders")
_LABEL_HEAD_RE = re.compile(rf"^(?:{alternation(TABLES['add']['labels'])})(?: list)?\s*:", re.I)


def _asks(body: str) -> bool:
    """A question, a command or a state after a label or a date ("tasks: show me", "shopping: done"), not an
    item to add."""
    return bool(_QUESTION_RE.match(body) or _COMMAND_HEAD_RE.match(body) or set(words(body)) <= _NO_ITEM_WORDS)


_SIGN_OFF_WORDS = vocab("add", "after_quote")
_NO_ITEM_WORDS = (
    vocab("list", "signals") | vocab("list", "words") | vocab("complete", "done") | vocab("bulk", "generic")
) | vocab("add", "not_items")
_COMMAND_HEAD_RE = re.compile(rf"^(?:{alternation(TABLES['add']['asking_heads'])})\b", re.I)
_POINTING_RE = re.compile(
    r"^(?:it|them)\b|^(?:that|this|these|those)(?:$|\s*[,;.!?]|\s+(?:for|to|by|because|now|back|done|again)\b)", re.I
)
_QUESTION_RE = re.compile(r"^(?:what|which|how|when|whether|if|where|who)\b", re.I)
# An add wrapped around a need the user states: "jot down that I need to renew my passport".
_STATED_NEED_RE = re.compile(r"^(?:that\s+)?(?=(?:i|we)\b)", re.I)
_LIST_WRAPPER_RE = re.compile(
    r"\s*\b(?:to|on|onto|in|into)\s+(?:my|the|our)\s+(?:(?:todo|to-do|to do|shopping|task|grocery|daily|work"
    r"|personal|reminders?)\s+)?(?:list|todos|todo|to-dos|to-do|tasks|reminders)\b",
    re.I,
)
# How a description is introduced: "with a note saying …", "description: …".
_LABEL = r"(?:description|desc|notes? to self|notes?|details?|comments?)"
_WITH_LABEL = rf"(?:with|w/|and)\s+(?:a\s+|the\s+|some\s+)?{_LABEL}"
_ADDED_DESCRIPTION_RES = patterns(
    rf"^(?P<title>.+?)[\s,;]+{_WITH_LABEL}\s*(?:of\s+|saying\s+|that says\s+|[:=-]\s*)?(?P<desc>.+)$",
    rf"^(?P<title>.+?)[\s,;.]+{_LABEL}\s*[:=-]\s*(?P<desc>.+)$",
    r"^(?P<title>.+?)\s*\((?P<desc>[^()]+)\)$",
    r"^(?P<title>.+?)\s*\[(?P<desc>[^\[\]]+)\]$",
    r"^(?P<title>.+?)(?<!\d)\s*:\s+(?P<desc>.+)$",
    r"^(?P<title>.+?)\s+-{1,2}\s+(?P<desc>.+)$",
)
_ITEM_SEPARATOR_RE = re.compile(
    r"\s*[,;]\s*(?:(?:and then |and |then |also )\s*|&\s*|or\s+)?|\s+(?:and also|and then|and|&|\+|plus|as well as)\s+",
    re.I,
)
_TITLE_LEAD_RE = re.compile(
    r"^(?:(?:to|that|about|of|for|also|then|plus|please|pls|plz|(?:me|us) to)\s+"
    r"|(?:a |an |the )?(?:todo|to-do|task|reminder|item)\s+(?:to|for|about|called|named|titled)\s+)+",
    re.I,
)
_TITLE_TAIL_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|thanks|thank you|for me|as well|too|also|asap|again|once more|instead|itself|then|first"
    r"|on (?:the|my) way(?: home| back)?))+$|[\s.,;:!?-]+$"
    r"|,?\s+(?:cuz|cos|coz|because)\s+.+$",  # why, said after it: "call the bank cuz they blocked my card"
    re.I,
)


def parse_add(text: str, today: date | None) -> Intent | None:
    """ "add X", "remind me to X", "put X and Y on my list", "I need to X"; None if not an add."""
    if (lead := find_date(text, today)) and lead.start == 0 and (rest := text[lead.end :].strip(" ,")):
        # "tomorrow I need to pick up the prescription"; "for tomorrow: call the vet; print the passes" heads a list
        listed = rest.startswith(":") and not _asks(rest[1:].strip())  # "for tomorrow: what's due?" asks
        later = AddIntent(new_todos(rest[1:], today)) if listed else parse_add(rest, today)
        if isinstance(later, AddIntent) and later.todos and not any(todo.due_date for todo in later.todos):
            return AddIntent(tuple(replace(todo, due_date=lead.day.isoformat()) for todo in later.todos))
    if match := _ADD_RE.match(text):
        body = match["body"]
    elif (
        (match := _PUT_RE.match(text))
        and not re.search(r"\bback$", match["body"], re.I)
        and not _POINTING_RE.match(match["body"])
    ):
        body = f"{match['body']} {match['rest']}"
    elif (
        (match := _ON_THE_LIST_RE.match(text))
        and not text.rstrip().endswith("?")
        and not (_VERB_IN_IT_RE.search(match["body"]) or _asks(match["body"]) or set(words(match["body"])) & _TELLING)
    ):
        body = f"{match['body']} {match['rest']}"  # "milk, eggs, bread on the list"
    elif (match := NEED_RE.match(text)) and _ABOUT_THE_LIST_RE.match(_MUSING_RE.sub("", match["body"])):
        return ReplyIntent("unclear")  # "I should really delete some of these one day": no todo, and no request
    elif (match := NEED_RE.match(text)) and not _POINTING_RE.match(match["body"]):
        body = _MUSING_RE.sub("", match["body"])  # "need it for my report" needs something already said, adds nothing
    else:
        return None
    if _QUESTION_RE.match(body) or (_LABEL_HEAD_RE.match(text) and _asks(body)):
        return None  # "remind me what's on my list", "tasks: show me" ask, add nothing
    if _STATED_NEED_RE.match(body) and (need := NEED_RE.match(_STATED_NEED_RE.sub("", body))):
        body = need["body"]
    todos = new_todos(body, today)
    if len(todos) == 1 and todos[0].title.lower() in _PLACEHOLDERS:
        # "put something on my list" asks what; in "add a new one: call mom" the todo is what follows
        described = todos[0].description
        if not described:
            return ReplyIntent("need_title")
        return AddIntent((replace(todos[0], title=clean_title(described), description=None),))
    return AddIntent(todos) if todos else ReplyIntent("need_title")


_MUSING_RE = re.compile(rf"^(?:(?:{alternation(TABLES['add']['musing'])})\s+)+", re.I)
_CHORES = TABLES["add"]["list_chores"]
_ABOUT_THE_LIST_RE = re.compile(rf"^(?:{alternation(_CHORES['verbs'])})\b.*\b(?:{alternation(_CHORES['of'])})\b", re.I)
"""A chore of the list itself, which no todo is: "I should really delete some of these one day"."""
_AGREES_RE = re.compile(rf"^(?:{alternation(TABLES['add']['accepting'])})\b", re.I)
_ADDING_WORDS = vocab("add", "echo_verbs")


def parse_echoed_add(text: str, today: date | None) -> AddIntent | None:
    """ "dentist checkup on the 14th, stick it on there": what comes before an echo that adds is the todo."""
    *before, last = _CLAUSE_CUT_RE.split(text)
    said = ", ".join(before)
    heard = set(words(last))
    if not before or not is_echo(last) or not heard & _ADDING_WORDS or "back" in heard or _AGREES_RE.match(said):
        return None  # "yes please, add it" accepts an offer; "I still need that, put it back" undoes
    if parse_small_talk(said):
        return None
    todos = new_todos(", ".join(before), today)
    return AddIntent(todos) if todos else None


def offer_add(text: str, today: date | None) -> OfferAddIntent | None:
    """ "call mom" on its own reads like a todo, but it is not a request: offer to add it."""
    tokens = words(text)
    if not 2 <= len(tokens) <= 8 or tokens[0] not in ERRAND_VERBS:
        return None
    todos = new_todos(text, today)
    return OfferAddIntent(todos) if todos else None


def new_todos(body: str, today: date | None) -> tuple[NewTodo, ...]:
    """The todos in an add request: one with a description, or one per listed item."""
    body = _LIST_INTRO_RE.sub("", " ".join(_LIST_WRAPPER_RE.sub(" ", body).split()).lstrip(" :"))
    body, aside_day = drop_asides(body, today)
    if (lead := find_date(body, today)) and lead.start == 0 and (label := _DATE_LABEL_RE.match(body[lead.end :])):
        body, aside_day = body[lead.end + label.end() :], lead.day  # "for tomorrow itself: collect the cheque"
    if quoted := _quoted_todo(body, today):
        return (replace(quoted, due_date=quoted.due_date or _iso(aside_day)),)
    labelled = any(pattern.match(body) for pattern in _ADDED_DESCRIPTION_RES[:2])  # "with the description: a; b"
    if (
        ";" in body and not labelled
    ):  # one item a line: each may have its own note or date ("- Return library books (due Friday)")
        items = [todo for item in body.split(";") for todo in new_todos(item, today)]
        return tuple(replace(todo, due_date=todo.due_date or _iso(aside_day)) for todo in items)
    if (shared := _SHARED_DATE_RE.search(body)) and (day := date_value(shared["when"], today)):
        body, aside_day = body[: shared.start()], day  # "diapers, wipes - all by tmrw pls": a date, no note
    for pattern in _ADDED_DESCRIPTION_RES:
        if match := pattern.match(body):
            due, title = extract_date(match["title"], today)
            title = clean_title(title)
            description = match["desc"].strip().strip("\"'").strip()
            if not due and (day := date_value(re.sub(r"^due\s+", "", description, flags=re.I), today)):
                due, description = day, ""  # "Return library books (due Friday)": a date, no note
            return (NewTodo(title, description or None, _iso(due or aside_day)),) if title else ()
    return tuple(NewTodo(title, None, _iso(due or aside_day)) for title, due in split_items(body, today) if title)


_LIST_INTRO_RE = re.compile(
    r"^(?:all |each of |both of )?(?:(?:these|those|the following|following)(?: \d{1,2}| "
    rf"(?:{alternation(NUMBER_WORDS)}))?|this list|the list|this lot|a few|few|some|several|multiple|a couple"
    rf"|(?:this|that|these|it) down(?: for me)?|\d{{1,2}}|{alternation(NUMBER_WORDS)}|please|pls|plz)"
    r"(?: (?:more |other |new )?(?:items|things|todos|to-?dos|tasks|ones|bits|of these))?(?: for me)?"
    r"(?:\s*,?\s*(?:please|pls|plz|if you would|if you could|if you can))?\s*:\s*",
    re.I,
)
_SHARED_DATE_RE = re.compile(
    r"\s*(?:\s-+|[,;:.])\s*(?:(?:all|both|each|everything|(?:all|both) of them|them all)\s+)?"
    r"(?P<when>(?:(?!\s-)[^,;:.])+?)(?:[\s,]+(?:please|pls|plz|thanks|thx))?[\s.!]*$",
    re.I,
)
_CLAUSE_CUT_RE = re.compile(r"\s*[,;]\s*")
_DATE_LABEL_RE = re.compile(r"^\s*(?:itself\s*)?:\s*", re.I)
_QUOTED_RE = re.compile(r"(?<!\w)([\"'])(?P<title>[^\"]+?)\1(?!\w)")
_REST_DESCRIPTION_RE = re.compile(
    rf"(?:{_WITH_LABEL}|\b{_LABEL})\s*(?:of\s+|saying\s+|that says\s+|[:=-]\s*)?(?P<desc>.+)$", re.I
)


def _quoted_todo(body: str, today: date | None) -> NewTodo | None:
    """A request that starts with one quoted title: what is quoted is the title, colons and all; the rest
    may say when it is due and give a note ('"Call Ben: re contract" for friday, note: the draft')."""
    quoted = list(_QUOTED_RE.finditer(body))
    if len(quoted) != 1 or quoted[0].start() != 0:
        return None
    rest = body[quoted[0].end() :]
    described = _REST_DESCRIPTION_RE.search(rest)
    before_note = rest[: described.start()] if described else rest
    if _ITEM_SEPARATOR_RE.search(before_note):
        return None  # more items follow: add "milk" and eggs
    due = find_date(before_note, today)
    undated = f"{before_note[: due.start]} {before_note[due.end :]}" if due else before_note
    title = quoted[0]["title"]
    if set(words(undated)) - _SIGN_OFF_WORDS:  # 'add "buy flowers" for mum': the words after it are the title's too
        title = f"{title} {undated.strip()}"
    description = described["desc"].strip(" \"'") if described else None
    return NewTodo(clean_title(title), description or None, _iso(due.day if due else None))


def drop_asides(body: str, today: date | None) -> tuple[str, date | None]:
    """Cut the clauses that are no items from an add: remarks ("we ran out") and echoes ("put it on
    the list"). A date they carry ("it's due Friday") still counts for the todos."""
    segments = _CLAUSE_CUT_RE.split(body)
    # After a note's label everything is the note: "..., note: she's due her booster, the vet shuts on Mondays".
    noted = next((i for i, segment in enumerate(segments) if _NOTE_LABEL_RE.search(segment)), len(segments))
    kept = [segments[0]] + [segment for i, segment in enumerate(segments[1:], 1) if i > noted or not _is_aside(segment)]
    if len(kept) == len(segments):
        return body, None
    asides = [segment for segment in segments[1:] if _is_aside(segment)]
    day = next((found.day for aside in asides if (found := find_date(aside, today))), None)
    return ", ".join(kept), day


def _is_aside(text: str) -> bool:
    """A remark, an echo, or a date said of every item ("..., both tomorrow"); never a labelled
    description ("..., note: the washer is worn" reads like a remark, but is the todo's description)."""
    if _DESCRIPTION_LABEL_RE.match(text):
        return False
    if (found := find_date(text, ANY_DAY)) and set(
        words(f"{text[: found.start]} {text[found.end :]}")
    ) <= _AROUND_A_DATE:
        return True
    return is_echo(text) or is_remark(text, past=False)


_DESCRIPTION_LABEL_RE = re.compile(rf"^(?:{_WITH_LABEL}|{_LABEL}\s*[:=-])", re.I)
_NOTE_LABEL_RE = re.compile(rf"(?:{_WITH_LABEL}|\b{_LABEL}\s*[:=-])", re.I)
# The words around a date said of every item: "both tomorrow", "needs doing by Friday", "for the friday".
_EVERY = {"both", "all", "each", "every", "of", "them", "these", "those", "and", "due", "for", "the", "it", "is"}
_EVERY |= {"they", "are", "needs", "need", "doing", "to", "be", "done", "has", "have", "should", "must"}
_AROUND_A_DATE = _EVERY | vocab("dates", "after_date")  # "..., due thursday fr"


_DISTRIBUTIVE_RE = re.compile(
    r"^(?P<verb>(?:buy|get|grab|order|purchase|pick up|collect|fetch|book|pay|renew|return)\s+)(?P<object>\S.*)$",
    re.I,
)
_LEADING_VERB_RE = re.compile(rf"^(?P<verb>(?:{'|'.join(sorted(ERRAND_VERBS))})\s+)(?P<object>\S.*)$", re.I)
_SHARED_OBJECT_MAX_WORDS = 3


def split_items(body: str, today: date | None) -> list[tuple[str, date | None]]:
    """ "milk, eggs and bread" is three todos; "call mom and dad" is one; "buy milk and eggs" is
    "Buy milk" and "Buy eggs".

    With commas it is a list. With only "and", the parts are separate todos when they look alike:
    all single words ("milk and eggs") or all phrases ("buy milk and call mom"), or when each later
    part starts a new action ("milk and call mom"), or is a short object for a verb like "buy" to
    share. A date that only the last part carries applies to every part ("call mom and email dad
    tomorrow", "milk, eggs and bread tomorrow"), except in a comma list of actions, where it is the last
    one's ("buy milk, call mom and book the dentist next friday").
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
    own_dates = ("," in body or ";" in body) and _starts_actions(parts)
    shared = dated[-1][0] if all(due is None for due, _ in dated[:-1]) and not own_dates else None
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
    return bool(parts) and all((tokens := words(part)) and tokens[0] in ERRAND_VERBS for part in parts)


def clean_title(text: str) -> str:
    """A title as a person would write it: no "to ..." lead-in, no quotes, first letter capitalised."""
    text = strip_all(_TITLE_TAIL_RE, _TITLE_LEAD_RE.sub("", text.strip()))
    text = text.strip().strip("\"'").strip()
    if text.isupper() and len(text.split()) >= 4:  # "CALL THE BANK ABOUT THE MORTGAGE" is shouted; "PAY HMRC VAT"?
        text = text.lower()
    return text[:1].upper() + text[1:]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def corrected_title(title: str, choice: Choice) -> str:
    """The title with the user's correction: only the replaced words change ("Buy bread" with "rolls,
    not bread" is "Buy rolls", "Call the dentsit" with "dentist" is "Call the dentist"), a name takes
    the place of the title's one name; a whole new wording keeps the todo's verb ("Buy milk" - "I meant
    oat milk")."""
    wording = choice.value or ""
    names = [word for word in title.split()[1:] if word[:1].isupper()]
    if len(names) == 1 and len(wording.split()) == 1 and wording[:1].isupper():
        old = choice.replaces or names[0]  # "Book flights to Rome" - "that should say Milan": a name for the name
    else:
        old = choice.replaces or ""
    kept = ({word for word in words(old) if len(word) > 2} - {"the", "todo", "one", "and"}) & set(words(wording))
    sentence = old and len(wording.split()) > len(old.split()) + 1 and not kept  # not "to say 'Gym at 7am'"
    said = _SAID_TAIL_RE.match(wording) if sentence else None
    if said and len(said["tail"].split()) <= len(old.split()) + 1:
        wording = said["tail"]  # "the deck should go to Marcus, not Priya": Marcus for Priya
    elif sentence and _TOLD_RE.search(wording):
        return title  # "the booking is for 6 people at 8, not 4": a sentence no title takes (nothing renamed)
    if old:
        literal = re.search(rf"\b{re.escape(old)}\b", title, re.I)
        fuzzy = (
            found for found in re.finditer(r"[\w'-]+", title) if same_word(stem(found[0].lower()), stem(old.lower()))
        )
        if spot := literal or (next(fuzzy, None) if len(old.split()) == 1 else None):
            if title[spot.end() : spot.end() + 1] == "'":  # "Jo's" with Kate for Jo is "Kate's"
                return clean_title(f"{title[: spot.start()]}{wording}{title[spot.end() :]}")
            before, new, after = title[: spot.start()].split(), wording.split(), title[spot.end() :].split()
            return clean_title(
                " ".join([*before[: len(before) - _overlap(before, new)], *new, *after[_overlap(new, after) :]])
            )
    if len(wording.split()) == 1 and (slip := _misspelt(title, wording)):  # "it should be plumber" ("plumer")
        return clean_title(f"{title[: slip.start()]}{wording}{title[slip.end() :]}")
    return clean_title(keep_leading_verb(title, wording))


_TOLD_RE = re.compile(r"\b(?:is|are|was|were|should|wants?|needs?|goes|go)\b", re.I)
_SAID_TAIL_RE = re.compile(
    r"^.*?\b(?:to|be|for|with|from|at|on|by|is|are|wants?|needs?|prefers?|likes?|gets?|getting)\s+(?P<tail>\S.*?)"
    r"(?:\s+(?:now|instead|then|please|too|this time))?$",
    re.I,
)
"""The words a sentence ends on after its last preposition or verb: what takes the old words' place."""


def _misspelt(title: str, word: str) -> re.Match[str] | None:
    """The word of `title` that is a slip for `word` (like it, not it)."""
    said = word.lower()
    words_of_title = re.finditer(r"[\w'-]+", title)
    return next((w for w in words_of_title if w[0].lower() != said and same_word(w[0].lower(), said)), None)


def _overlap(first: Sequence[str], then: Sequence[str]) -> int:
    """How many words end `first` and start `then` too: "white onions" + "onions" said once, not twice."""
    lower = [word.lower() for word in first], [word.lower() for word in then]
    return next((k for k in range(min(len(first), len(then)), 0, -1) if lower[0][-k:] == lower[1][:k]), 0)


def keep_leading_verb(title: str, wording: str) -> str:
    """ "Buy eggs" corrected to "a dozen eggs" is "Buy a dozen eggs": a new wording without a verb
    replaces what the todo is about, not what is to be done."""
    verb, _, rest = title.partition(" ")
    first = wording.split()[0] if wording.split() else ""
    if not rest or verb.lower() not in ERRAND_VERBS or first.lower() in ERRAND_VERBS:
        return wording
    if first != "I" and "'" not in first and first[1:] in ("", first[1:].lower()):  # "A dozen": only as a title
        wording = wording[:1].lower() + wording[1:]
    return f"{verb} {wording}"
