"""Reading a message on its own: cut into its clauses (sentences, "and"/"then", ";", lines), each read as
one intent by the readers (`READERS`), giving one request, several actions (`MultiIntent`), or a request
with remarks around it ("the tap leaks again, reopen it"). `followups` reads it in the context of our
previous answer."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import date
from typing import TypeVar

from service.agent.guardrails import scope_violation
from service.agent.offline import changes, deeds, notes
from service.agent.offline.adds import NEED_RE, offer_add, parse_add, parse_echoed_add
from service.agent.offline.asked_after import change_then_question, question_then_change
from service.agent.offline.chatter import (
    HELP_RE,
    PRONOUN_RE,
    correct_typos,
    is_echo,
    is_remark,
    parse_small_talk,
    refers_back,
    strip_fillers,
    without_sign_off,
)
from service.agent.offline.conditions import parse_conditional
from service.agent.offline.cutting import across_sentences, after_header, clauses, pieces, sentences
from service.agent.offline.dates import self_corrected
from service.agent.offline.exclusions import parse_exception
from service.agent.offline.intents import (
    MAX_MESSAGE_CHARS,
    Action_,
    AddIntent,
    BulkIntent,
    ChangeIntent,
    Choice,
    Intent,
    ListIntent,
    MultiIntent,
    OfferAddIntent,
    Reader,
    ReplyIntent,
    UndoIntent,
)
from service.agent.offline.queries import (
    FRESH_START_RE,
    parse_bulk,
    parse_list,
    parse_profile,
    parse_search,
)
from service.agent.offline.reasons import about_told, without_reason
from service.agent.offline.swaps import cancelled_why, swapped, told_apart
from service.agent.offline.text import alternation, expand, normalize
from service.agent.offline.undoing import parse_undo
from service.agent.offline.vocabulary import TABLES, starts_command


@functools.lru_cache(maxsize=512)
def parse_intent(message: str, today: date | None) -> Intent:
    """What the user wants, from their words alone (the conversation is consulted when planning)."""
    text = normalize(message)
    if len(text) > MAX_MESSAGE_CHARS:
        return parse_long(text, today)
    return _parse_text(text, today)


def _parse_text(text: str, today: date | None) -> Intent:
    if scope_violation(text):
        return ReplyIntent("refuse")
    if (small_talk := parse_small_talk(text)) is not None:
        return small_talk
    request, greeted = strip_fillers(without_sign_off(text))
    request = self_corrected(request, today)
    if not request:
        return ReplyIntent("greeting" if greeted else "unclear")
    if HELP_RE.match(request):  # "hi, what can you do?"
        return ReplyIntent("help")
    if text.endswith("?") and (asked := changes.parse_asked(expand(request))) is not None:
        return asked
    return (
        question_then_change(request, _parse_text, today)
        or change_then_question(request, _parse_text, today)
        or parse_conditional(request, parse_intent, today)
        or parse_exception(request, today, lambda rest: parse_actions(rest, today) or parse_message(rest, today))
        or parse_undo_clauses(request, today)
        or parse_actions(request, today)
        or parse_message(request, today)
        or parse_small_talk(request)
        or parse_echoed_add(request, today)
        or offer_add(request, today)
        or single_request(request, today)
        or parse_request(correct_typos(request, first_only=True), today)
        or parse_request(correct_typos(request), today)
        or _beyond_header(request, today)
        or ReplyIntent("unclear")
    )


def _beyond_header(text: str, today: date | None) -> Intent | None:
    """The request after a label: "sprint wrap-up: everything's done except the load test"."""
    intent = _parse_text(rest, today) if (rest := after_header(text)) else None
    return None if isinstance(intent, ReplyIntent) else intent


def single_request(text: str, today: date | None) -> Intent | None:
    """The one request among sentences of chatter ("I was at the shops ... Anyway, add X."), or the
    one change among clauses ("undo please, my mistake"); None when there is no such part or more
    than one (acting on one of two would be a guess)."""
    parts = list(dict.fromkeys(sentences(text)))
    if len(parts) > 1:
        asked = [_parse_text(part, today) for part in parts]
        # the same request said twice is one ("no put it back!! undo undo")
        requests = list(dict.fromkeys(i for i in asked if not isinstance(i, ReplyIntent | OfferAddIntent)))
    else:
        parts = clauses(text)
        readings = [_read(part, today) for part in parts]
        requests = [intent for intent in readings if isinstance(intent, ChangeIntent | UndoIntent)]
        # an add asked in so many words after a remark ("my sister's coming on saturday so can you add ...")
        requests += _among_remarks(parts, readings, AddIntent, _ADDS_RE)
        # else one list question ("how many have I finished, and which ones are they?"), or one among remarks
        # ("before I delete anything, remind me what's on my list?")
        if not requests and changes.ASKING_RE.match(text):
            requests = [intent for intent in readings if isinstance(intent, ListIntent)]
        if not requests:
            requests += _among_remarks(parts, readings, ListIntent, _ASKS_RE)
        if not requests and (helps := _among_remarks(parts, readings, ReplyIntent, HELP_RE)):
            return helps[0]  # "I'm new here - what can you actually do?"
    return requests[0] if len(requests) == 1 else None


_Asked = TypeVar("_Asked", AddIntent, ListIntent, ReplyIntent)


def _among_remarks(
    parts: list[str], readings: list[Intent | None], kind: type[_Asked], asked: re.Pattern[str]
) -> list[_Asked]:
    """The readings of `kind` asked for in so many words (`asked`), when every other clause is a remark."""
    pairs = list(zip(parts, readings, strict=True))
    if not all(isinstance(i, kind) or (i is None and is_remark(p)) for p, i in pairs):
        return []
    return [i for p, i in pairs if isinstance(i, kind) and asked.match(p)]


_ADDS_RE = re.compile(r"^(?:(?:can|could|would|will) you\s+(?:please\s+)?|please\s+)?(?:add|put|stick|pop)\b", re.I)
_ASKS_RE = re.compile(rf"(?:{changes.ASKING_RE.pattern}|(?:remind|show|tell|give) me\b|list\b)", re.I)


def parse_long(text: str, today: date | None) -> Intent:
    """A long message is acted on only when its request is short: the one request among sentences
    of chatter ("add X. By the way, ..."), or an add whose long part is its description."""
    if scope_violation(text):
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
READERS: tuple[tuple[str, Reader], ...] = (
    ("undo", lambda text, _: parse_undo(expand(text))),
    ("describe", lambda text, _: notes.parse_describe(text)),  # "add a note to X: ..." edits X, adds no todo
    ("add", parse_add),
    ("profile", lambda text, _: parse_profile(expand(text))),
    ("bulk", lambda text, _: parse_bulk(expand(text))),  # "mark everything done" before "mark X done"
    ("search", lambda text, _: parse_search(expand(text))),  # "anything about the car?" before the list's words
    ("list", lambda text, today: parse_list(expand(text), today)),
    ("status", lambda text, _: changes.parse_status(expand(text))),  # "is X done?" asks, changes nothing
    ("due", lambda text, today: changes.parse_due(expand(text), today)),
    ("rename", changes.parse_rename),  # "change X to Friday" is read here, by what the new value is
    ("state", lambda text, _: changes.parse_state_change(expand(text))),
    ("done statement", lambda text, _: deeds.parse_done_statement(expand(text))),  # a guess: after every command
    ("correction", lambda text, today: _correction(text, today)),  # "dentsit should be dentist": after every command
)
"""Each intent's reader, tried in turn: the first that reads the clause wins, and the comments say why
a reader comes before the ones after it. A reader reads one clause with its own table of patterns."""


def _correction(text: str, today: date | None) -> ChangeIntent | None:
    """A new wording, unless what is "new" tells a deed: "bill's paid - not the gas one, the water one" says
    which bill was paid, it renames none."""
    intent = changes.parse_correction(text, today)
    told = intent is not None and intent.action == "rename" and intent.choices[0].value
    return None if told and deeds.parse_done_statement(expand(told)) else intent


@functools.lru_cache(maxsize=2048)  # a message's clauses are read again as it is cut differently
def parse_request(text: str, today: date | None) -> Intent | None:
    """A request about the todos, or None when the words fit no request we know."""
    need = NEED_RE.match(text)  # "I need to delete the milk", "I want to start fresh": the request in it
    body = need["body"] if need else ""
    if (starts_command(body) or FRESH_START_RE.match(body)) and (request := parse_request(body, today)):
        return request
    intent = next((intent for _, reader in READERS if (intent := reader(text, today)) is not None), None)
    if isinstance(intent, ChangeIntent) and across_sentences(intent):
        return None  # "did everything today. mark it all done" names no todo "everything today. mark it all"
    return without_reason(text, intent, parse_request, today)


def parse_message(text: str, today: date | None) -> Intent | None:
    """The request in `text`, read whole or, when that finds no request or a change that swallowed a
    second clause ("done, mark it complete"), clause by clause."""
    whole = parse_request(text, today)
    if whole == ReplyIntent("unclear") and len(sentences(text)) > 1:
        whole = None  # "I ought to sort the garage one of these days. Anyway, what's left?": read sentence by sentence
    if whole is None or isinstance(whole, ChangeIntent | ReplyIntent):
        return parse_clauses(text, today) or whole
    return whole


def parse_undo_clauses(text: str, today: date | None) -> UndoIntent | None:
    """An undo among clauses that only say why or point back: "scratch that - undo it", "no I didn't mean
    that, I haven't called them yet"; not "add milk, actually undo that" (that asks nothing done)."""
    # A clause told by the user ("I still have to call her") says why; it asks nothing of its own.
    readings = [(clause, _read(clause, today)) for clause in clauses(text) if not _SAYS_WHY_RE.match(clause)]
    if any(_UNDO_WORD_RE.search(clause) and isinstance(intent, UndoIntent) for clause, intent in readings) and all(
        isinstance(intent, UndoIntent | ReplyIntent | None)
        or (isinstance(intent, ChangeIntent) and all(refers_back(choice.ref) for choice in intent.choices))
        # a deed the user owns up to says why: "undo that - I jumped the gun"
        or (isinstance(intent, ChangeIntent) and intent.tentative and _SAID_BY_ME_RE.match(clause))
        for clause, intent in readings
    ):
        return UndoIntent()
    return None


def parse_clauses(text: str, today: date | None) -> ChangeIntent | MultiIntent | None:
    """A change asked for in one clause, with the others as context: "the tap is leaking again, mark
    it as not done" reopens the tap; "got the milk and the bread, check both off" both.

    Every clause must be a change, a remark, an echo or small talk, else the cut is wrong ("mark milk,
    eggs and bread as done") and None is returned. The command wins over statements; a pronoun in it
    may mean what another clause named.
    """
    parts = clauses(text)
    if len(parts) < 2:
        return None
    chained: tuple[ChangeIntent, ...] = ()
    asked: list[tuple[str, ChangeIntent]] = []
    context: list[str] = []
    named: list[str] = []  # todos a clause names without asking anything of them
    for clause in parts:
        part = strip_fillers(clause)[0] or clause  # "..., can you untick it?" asks "untick it"
        # "done, mark it complete": "done" only agrees; "leave the bread alone, but ...": names, asks nothing
        if parse_small_talk(part) or is_echo(part) or _LEFT_ALONE_RE.match(part):
            continue
        if (negated := _NEGATED_RE.match(part)) and isinstance(
            held := parse_request(negated["rest"], today), ChangeIntent
        ):
            named += [choice.ref for choice in held.choices]  # "don't delete the gym one, just tick it off"
            continue
        intent = parse_request(part, today)
        if chain := _chained(part, today):  # "..., untick it and make it due tomorrow": two changes of "it"
            chained, intent = chain, chain[0]
        if isinstance(intent, ChangeIntent):
            asked.append((part, intent))
        elif intent is not None:
            return None
        elif is_remark(part):
            context.append(clause)
        elif (topic := _TOPIC_RE.match(part)) and len(part.split()) <= _TOPIC_MAX_WORDS:
            named.append(changes.clean_ref(topic["topic"]))  # "the task of jacket, please change it to ..."
        else:
            return None
    asked = [(part, intent) for part, intent in asked if not any(_removes_the_date_again(i, intent) for _, i in asked)]
    if not asked:
        return None
    # Commands before statements ("trip is cancelled" names its todo first; a command starts with its verb).
    asked.sort(key=lambda pair: (pair[1].tentative, pair[0].lower().startswith(pair[1].choices[0].ref.lower())))
    main = asked[0][1]
    others = [choice.ref for _, intent in asked[1:] if intent.action == main.action for choice in intent.choices]
    value = main.choices[0].value
    if context and (about := about_told(main, context[-1])):
        return about
    if not any(PRONOUN_RE.match(choice.ref) for choice in main.choices):
        # "I haven't finished the essay, untick it": "it" is the todo this message named, not another
        others = [ref for ref in others if not PRONOUN_RE.match(ref)]
    if named and not all(PRONOUN_RE.match(choice.ref) for choice in main.choices):
        return None  # a todo named beside a command that names its own: no pronoun joins them
    if main.action == "rename" and main.choices[0].correction and main.choices[0].ref == "that" and (context or named):
        return None  # "I keep putting off the dentist, it's ridiculous": a correction fixes what we just did
    if all(PRONOUN_RE.match(choice.ref) for choice in main.choices):
        # what a statement told of ("I renewed the library books, make them due ...") is what "them" means
        told = [c.ref for _, i in asked[1:] if i.tentative and i.action != main.action for c in i.choices]
        others += named + told + [changes.clean_ref(part) for part in context]
        antecedents = tuple(Choice(ref, value, antecedent=True) for ref in others)
        if chained and main is chained[0]:
            return MultiIntent(tuple(replace(change, choices=antecedents + change.choices) for change in chained))
        return replace(main, choices=antecedents + main.choices)
    return replace(main, choices=main.choices + tuple(Choice(ref, value) for ref in others))


def _chained(clause: str, today: date | None) -> tuple[ChangeIntent, ...]:
    """A clause of several changes, each of "it": "untick it and make it due tomorrow"."""
    cut = pieces(strip_fillers(clause)[0])
    changes_of_it = [intent for _, piece in cut if isinstance(intent := _action(piece, today), ChangeIntent)]
    if len(cut) < 2 or len(changes_of_it) != len(cut):
        return ()
    return tuple(changes_of_it) if all(PRONOUN_RE.match(c.ref) for i in changes_of_it for c in i.choices) else ()


_NEGATED_RE = re.compile(r"^(?:do not|don't|dont|never|no need to)\s+(?P<rest>.+)$", re.I)
"""A change the user does not want: it only says which todo they mean ("don't delete X, just tick it off")."""
_LEFT_ALONE_RE = re.compile(rf"^(?:leave|keep)\s+.+?\s+(?:{alternation(TABLES['remarks']['left_alone'])})$", re.I)
_TOPIC_RE = re.compile(
    r"^(?:(?:no (?:rush|hurry)|as for|about|regarding|re)(?: (?:on|with|for))?\s+)?"
    r"(?P<topic>(?:the|my|that|this|our)\s+[\w' -]+)$",
    re.I,
)
"""A todo named as the topic of a command that follows ("the task of jacket, change it to ...", "no rush on the
gutters, take the date off it")."""
_TOPIC_MAX_WORDS = 6


_SO_IS_RE = re.compile(r"^so (?:is|are|was|were|has|have)\s+(?P<ref>.+)$", re.I)
_SUBJECT_RE = re.compile(r"^(?:(?:i|we)\s+(?:have\s+)?(?:just\s+|already\s+|finally\s+)*|(?:just|already)\s+)", re.I)
"""The subject a later clause shares: "I fed the fish and paid the gas bill", "just did X and Y"."""


def parse_actions(text: str, today: date | None) -> MultiIntent | Action_ | None:
    """Several actions, one per clause: "delete milk and mark eggs done", "I fed the fish and paid the
    gas bill", "picked up the parcel, and put 'call the vet' on the list".

    The message is cut at every clause break; a piece that is no action on its own ("eggs" in "add
    milk, eggs") joins the one before it, so lists and "mark X and Y done" stay one action. Pronouns
    ("check both off") point into other clauses, which `parse_clauses` reads; so does chatter.
    """
    if swap := swapped(text, parse_request, today):
        return swap
    cut = _with_antecedents(pieces(text), today)
    if not 2 <= len(cut) <= _MAX_ACTIONS or any(_points_back(piece, today) for _, piece in cut):
        return None
    if any(_held_back(piece, today) for _, piece in cut):
        return None  # "don't mark X as done!! just push it to friday": X is named, not changed (parse_clauses)
    units: list[Action_] = []
    dropped = False
    buffer, current = cut[0][1], _action(cut[0][1], today)
    for separator, piece in cut[1:]:
        if isinstance(current, ChangeIntent) and (same := _SO_IS_RE.match(piece)):  # "... and so is the hoovering"
            current = replace(current, choices=(*current.choices, Choice(changes.clean_ref(same["ref"]))))
            dropped = True  # the piece is read into the change before it
            continue
        subject = _SUBJECT_RE.match(buffer)
        if subject and not _SUBJECT_RE.match(piece) and _action(f"{subject.group()}{piece}", today):
            piece = f"{subject.group()}{piece}"  # "I fed the fish and paid the gas bill"
        if _action(piece, today) is None and (shared := _sharing_verb(buffer, current, piece, today)):
            piece = shared  # "move the dentist to friday and the haircut to saturday"
        following = _action(piece, today)
        aside = is_remark(piece) or parse_small_talk(piece) is not None or bool(_TOLD_RE.match(piece))
        said_of_it = isinstance(following, ChangeIntent) and following.tentative and _IT_RE.search(piece)
        if current is not None and said_of_it and not isinstance(current, AddIntent):
            dropped = True  # "reopen the problem set, I got it back for corrections": about that todo
            continue
        if isinstance(current, ChangeIntent) and current.tentative and following and re.match(r"\W*so\b", separator):
            buffer, current, dropped = piece, following, True  # "we've sold the caravan, so scrap its insurance"
            continue
        left_alone = bool(_LEFT_ALONE_RE.match(piece.rstrip(" .!")))  # "... but leave it on the list": it stays
        if current is not None and (
            left_alone or told_apart(following, piece) or cancelled_why(current, following, separator, piece)
        ):
            dropped = True  # "change X to 'call electrician', it's the lights not the pipes": why, not a rename
            continue
        if current is not None and following is None and aside and not isinstance(current, AddIntent):
            dropped = True  # "remove send report, I'll hand it in person": a remark, no part of the todo
            continue
        if current is None and following is not None and (is_remark(buffer) or parse_small_talk(buffer)):
            # "I'm all done for today, tick everything off"; "the party's off, delete everything to do with it"
            about = about_told(following, buffer) if isinstance(following, ChangeIntent) else None
            buffer, current, dropped = piece, about or following, True
            continue
        if current is None or following is None or (isinstance(current, AddIntent) and not starts_command(piece)):
            buffer = f"{buffer}{separator}{piece}"
            current = _action(buffer, today)
            continue
        units.append(current)
        buffer, current = piece, following
    if current is None or not (units or dropped):
        return None
    actions = tuple(dict.fromkeys((*units, current)))  # one change said twice ("did everything. mark it all done")
    return MultiIntent(actions) if len(actions) > 1 else current


_UNDO_WORD_RE = re.compile(
    r"\b(?:undo|revert|roll ?back|restore|did(?:n'?t| not) mean|(?:a|my) mistake|put (?:it|that|them|those) back)\b",
    re.I,
)
"""An undo said in so many words ("so cancel it" may be a delete)."""


def _held_back(piece: str, today: date | None) -> bool:
    """ "don't mark the report as done": a change the user does not want (not "never mind")."""
    negated = _NEGATED_RE.match(strip_fillers(piece)[0])
    return negated is not None and isinstance(parse_request(negated["rest"], today), ChangeIntent)


_SAID_BY_ME_RE = re.compile(r"^(?:i|we)\s", re.I)
_SAYS_WHY_RE = re.compile(
    r"^(?:(?:i|we)(?:'ll|'m|'ve| will| am| have| still| need| do| did| can| really)"
    r"|(?:it|they|he|she)(?:'s|'re|'ve| is| are| was| were| has| have| still)(?: not|n't)?)\b",
    re.I,
)


_TOLD_RE = re.compile(
    r"^(?:my|our|his|her|their|your)\s+\w+\s+(?:\w+\s+)?(?:is|are|was|were|has|have|had|gives|gave|does|did|says|said"
    r"|wants|needs|got|sent|paid|made|told|will|can|would)\b",
    re.I,
)
"""After a change, a clause about someone's something tells why ("..., my uni gives me one for free")."""
_MAX_ACTIONS = 8
"""More clauses than this are a story, not a list of actions (and each cut is read again)."""


def _with_antecedents(pieces: list[tuple[str, str]], today: date | None) -> list[tuple[str, str]]:
    """Each clause's "it" as the one todo the clause before it changes in another way: "mark pay rent done
    and set it due friday" is two changes of pay rent. Plural pronouns ("check both off") and a change said
    twice ("the printer is fixed, cross it off") are left to `parse_clauses`."""
    if len(pieces) > _MAX_ACTIONS:
        return pieces
    out: list[tuple[str, str]] = []
    before: Action_ | None = None  # the action of the clause before, as rewritten
    for separator, piece in pieces:
        if isinstance(before, ChangeIntent) and len(before.choices) == 1:
            # After a rename, the todo goes by its new title: "rename X to Y and mark it done".
            named = (before.choices[0].value if before.action == "rename" else None) or before.choices[0].ref
            intent = _read(piece, today)
            if (
                isinstance(intent, ChangeIntent)
                and intent.action != before.action  # the same change said twice: "X is fixed, cross it off"
                and not intent.tentative  # a deed told of it says why: "get rid of X, I cancelled it last week"
                and len(intent.choices) == 1
                and (pronoun := PRONOUN_RE.match(ref := intent.choices[0].ref))
                and pronoun["one"]
                and not PRONOUN_RE.match(named)
                and not _removes_the_date_again(before, intent)
            ):
                # quoted, so that the title stays one reference beside the new value ("call it X")
                title = f'"{named}"'.replace("\\", "\\\\")  # a replacement reads "\\d" in a title as an escape
                piece = re.sub(rf"\b{re.escape(ref)}\b", title, piece, count=1, flags=re.I)
        out.append((separator, piece))
        before = _action(piece, today)
    return out


def _removes_the_date_again(undate: ChangeIntent, removal: ChangeIntent) -> bool:
    """ "X doesn't need a deadline anymore, take it off", "remove the note from X, don't need it anymore": "it"
    is the deadline or the note, not the todo."""
    undated = undate.action == "due" and undate.choices[0].value == changes.UNDATED
    unnoted = undate.action == "describe" and undate.choices[0].value == ""
    pointed = all(PRONOUN_RE.match(choice.ref) for choice in removal.choices)
    return (undated or unnoted) and removal.action == "delete" and pointed


def _sharing_verb(clause: str, action: Action_ | None, piece: str, today: date | None) -> str | None:
    """The next piece with this clause's verb (the words before the todo it names), when that reads as
    the same change of another todo with its own value: "delete salt and pepper" may be one todo."""
    if not isinstance(action, ChangeIntent) or (ref := action.choices[0].ref.lower()) not in clause.lower():
        return None
    if is_remark(piece):
        return None  # "swap Jo for Kate on the kids one, they're at Kate's this week": why, not another swap
    verb = clause[: clause.lower().index(ref)]
    shared = _action(f"{verb}{piece}", today) if verb.strip() else None
    if not isinstance(shared, ChangeIntent) or shared.action != action.action or shared.choices[0].value is None:
        return None
    # Another todo names itself: "no rush on it" after "take the deadline off X" is a remark about X.
    return None if _IT_RE.search(shared.choices[0].ref) else f"{verb}{piece}"


_IT_RE = re.compile(r"\b(?:it|them)\b", re.I)


def _points_back(text: str, today: date | None) -> bool:
    """ "check both off", "put it on the list": a clause about what another clause named."""
    intent = _read(text, today)
    pronoun = isinstance(intent, ChangeIntent) and any(PRONOUN_RE.match(choice.ref) for choice in intent.choices)
    return pronoun or is_echo(strip_fillers(text)[0])


def _read(clause: str, today: date | None) -> Intent | None:
    """A clause's request, without the fillers around it: "..., can you untick it?" asks "untick it"."""
    request = strip_fillers(clause)[0]
    if HELP_RE.match(request):  # "what can you do" asks for help, not for the list
        return ReplyIntent("help")
    return parse_request(request, today) if request else None


def _action(text: str, today: date | None) -> Action_ | None:
    """`text` read as one action that changes the list, else None (questions, chatter, pronouns)."""
    intent = _read(text, today)
    if isinstance(intent, ChangeIntent):
        return None if intent.action == "status" else intent
    return intent if isinstance(intent, AddIntent | BulkIntent) else None
