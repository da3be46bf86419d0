"""References: which todos "the milk", "the second one" and "it" mean.

A reference is resolved against the list `list_todos` returned this turn, never against memory:
by fuzzy title match, by position in the list the user last saw, or by pronoun to the todos the
last turn was about. When it is not clear, the resolution carries the question or problem to tell
the user instead, and nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from service.agent.offline import answers
from service.agent.offline.changes import NOT_THIS_BUT_RE
from service.agent.offline.chatter import PRONOUN_RE
from service.agent.offline.conversation import Todo, Turn
from service.agent.offline.followups import understand
from service.agent.offline.intents import Action, BulkIntent, ChangeIntent, Choice, ListIntent, MultiIntent
from service.agent.offline.queries import OTHER_RE, parse_group, the_others
from service.agent.offline.text import NUMBER_WORDS, alternation, number
from service.agent.offline.vocabulary import ERRAND_VERBS, WEAK_STEMS, vocab
from service.matching import ORDINALS, same_word, stem, words
from service.matching import key_words as shared_key_words

_REF_STOPWORDS = vocab("references", "stopwords")
_ORDINAL_RE = alternation(ORDINALS)
_POSITION_RE = re.compile(
    rf"^(?:the |my |that |this )?(?:(?P<ordinal>{_ORDINAL_RE})(?: (?:one|todo|task|item|entry|thing))?"
    r"(?: of (?:those|them|these|the list))?"
    r"(?: (?:on|in) (?:the|my) list)?(?: (?:you|i) (?:listed|showed(?: me)?|mentioned|said|gave me|read out))?"
    r"|(?:#|no\.? ?|nr\.? ?|numb?e?r |num |item |todo |task |entry )?(?P<number>\d{1,3})"
    rf"|(?:number|item|todo|task) (?P<word>{alternation(NUMBER_WORDS)}))$",
    re.I,
)
_SPAN_RE = re.compile(
    rf"^(?:the |my )?(?P<end>first|top|last|bottom) (?P<count>\d{{1,2}}|{alternation(NUMBER_WORDS)})"
    r"(?: (?:ones|todos|tasks|items|entries|things))?(?: (?:on|in) (?:the|my) list)?$",
    re.I,
)
"""Several todos at one end of the list: "the first two", "the last 3 items"."""
_EVERYTHING_RE = re.compile(r"everything|all(?: (?:my|the))?(?: (?:todos|tasks|things|items))?", re.I)
"""Every todo, said of a due date (no bulk change moves dates: "push everything to friday")."""
_REF_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+)?|\s+(?:and|&|plus|n)\s+", re.I)


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
    first: int = 1
    """The number the first shown todo had: a later page of the list starts at 11, say."""
    today: date | None = None
    """The turn's date, for references by due date ("everything that's overdue")."""
    pair: tuple[Todo, ...] = ()
    """The todos the last two changing turns changed, one each: what "both of those" means after two adds."""


def resolve(
    text: str, todos: Sequence[Todo], refs: RefContext, action: Action, *, strict: bool = False, split: bool = True
) -> Resolution:
    """The todos the user's words pick out of `todos` (the current list)."""
    by_id = [todo for todo in todos if todo.id.lower() == text.strip().lower()]  # a todo's id, as the tools take
    if by_id:
        return Resolution(todos=tuple(by_id), quality=2)
    if pronoun := PRONOUN_RE.match(text):
        return _by_pronoun(text, bool(pronoun["many"]), todos, refs)
    if other := OTHER_RE.match(text.strip()):  # "the other one's done too": beside the todo just talked about
        others = the_others(other["kind"], refs.recent, todos) if refs.recent else []
        if len(others) == 1:
            return Resolution(todos=(others[0],), quality=1)
        return _ask_which(text, others) if others else Resolution(problem=answers.unclear_reference_answer(text))
    if (but_not := _BUT_NOT_RE.match(text)) and (kept := resolve(but_not["ref"], todos, refs, action, strict=strict)):
        left_out = match_titles(but_not["old"], todos, action)  # "the thursday one, not the gym one"
        meant = [todo for todo in kept.todos or kept.candidates if todo not in left_out.todos + left_out.candidates]
        if len(meant) == 1:
            return Resolution(todos=(meant[0],), quality=1)
    if action == "due" and _EVERYTHING_RE.fullmatch(text.strip()):  # "push everything to friday": every open todo
        return Resolution(todos=tuple(todo for todo in todos if not todo.completed), quality=2)
    group = parse_group(text, refs.today)  # "everything to do with the party", "the one due tomorrow"
    in_group = answers.members(group, todos) if group else []
    if group and group.limit == 1 and len(in_group) > 1:  # two are due tomorrow: ask which
        return Resolution(candidates=tuple(in_group), quality=1)
    if group and (in_group or group.limit != 1):  # "the one for mum" that no todo mentions may match a title
        return (
            Resolution(todos=tuple(in_group), quality=2)
            if in_group
            else Resolution(problem=answers.list_answer(group, []))
        )
    if (found := _by_place(text, todos, refs)) is not None:
        if found.todos or not text.strip("#").isdigit():
            return found
        titled = match_titles(text, todos, action, strict=strict)  # no 4th todo: "change 4 to 6" means a word
        return titled if titled.todos else found
    found = match_titles(text, todos, action, strict=strict)
    parts = _REF_SPLIT_RE.split(text)
    if found.quality >= 1 or not split or len(parts) < 2:
        return found
    picked = [resolve(part, todos, refs, action, strict=strict, split=False) for part in parts if part.strip()]
    if not all(len(part.todos) == 1 for part in picked):
        return found
    unique = {part.todos[0].id: part.todos[0] for part in picked}
    if found.todos and len(unique) < 2:
        return found  # the parts name no more todos than the whole did
    # "called the bank and emailed the landlord" half-matches each; its parts match one each
    return Resolution(todos=tuple(unique.values()), quality=min(part.quality for part in picked))


def match_titles(text: str, todos: Sequence[Todo], action: Action, *, strict: bool = False) -> Resolution:
    """Fuzzy title matching by stemmed words.

    A todo matches when it has every word of the reference, or most of them including a telling one
    (not just a verb like "call" or "buy"). An exact match wins; ties ask; `strict` (for guesses
    from statements) also wants a telling word in a complete match.
    """
    wanted = key_words(text)
    if not wanted:
        return Resolution(problem=answers.unclear_reference_answer(text))
    scored: dict[tuple[float, int], list[Todo]] = {}
    for todo in todos:
        title = key_words(todo.title)
        if title == wanted:
            scored.setdefault((2.0, 0), []).append(todo)
            continue
        matched = {word for word in wanted if any(same_word(word, other) for other in title)}
        coverage = len(matched) / len(wanted)
        if coverage < 1 and _other_errand(text, todo.title):
            continue  # "walk the dog" is not "Buy dog food": the same dog, another errand
        if coverage < 1 and action == "delete" and wanted - matched - _KINDS:
            continue  # "delete the dog walking one" with only "Buy dog food": what is lost is not guessed
        telling = bool(matched - WEAK_STEMS)
        if (coverage == 1 and (telling or not strict)) or (coverage >= 0.5 and telling):
            # the same words spelt alike beat a likely typo: "grandpa" means "Call grandpa", not "Call grandma"
            scored.setdefault((coverage, len(wanted & title)), []).append(todo)
    if not scored:
        # Only a verb like "call" in common ("made the call"): not enough to pick one, enough to ask among several.
        weak = [
            todo
            for todo in todos
            if not wanted - WEAK_STEMS and any(same_word(w, o) for w in wanted for o in key_words(todo.title))
        ]
        if len(weak) > 1 and not strict:
            return _ask_which(text, weak)
        return Resolution(problem=answers.no_match_answer(text, todos))
    best_score = max(scored)
    best = _prefer_by_state(scored[best_score], action)
    quality = 2 if best_score[0] == 2 else 1 if best_score[0] == 1 else 0
    if len(best) > 1:
        return _ask_which(text, best)
    return Resolution(todos=tuple(best), quality=quality)


_KINDS = frozenset(stem(word) for word in vocab("references", "kinds"))
_ERRAND_STEMS = frozenset(stem(verb) for verb in ERRAND_VERBS - vocab("done_statement", "standing_in"))


def _other_errand(reference: str, title: str) -> bool:
    """Both start with an errand verb, and not the same one (nor one that stands for any)."""
    said, titled = words(reference)[:1], words(title)[:1]
    verbs = [stem(word[0]) for word in (said, titled) if word]
    return len(verbs) == 2 and all(verb in _ERRAND_STEMS for verb in verbs) and not same_word(*verbs)


def key_words(text: str) -> frozenset[str]:
    # "called" names a todo ("the one called X"), unless it is the deed ("called mum", "I called mum")
    deed = words(text)[:2] == ["i", "called"] or words(text)[:1] == ["called"]
    return shared_key_words(text, _REF_STOPWORDS - {"called"} if deed else _REF_STOPWORDS)


def _prefer_by_state(todos: list[Todo], action: Action) -> list[Todo]:
    """Among equal matches, the ones the action would change: "mark milk done" means the open "Milk"."""
    if action not in ("complete", "reopen"):
        return todos
    changeable = [todo for todo in todos if todo.completed != (action == "complete")]
    return changeable or todos


def _by_place(text: str, todos: Sequence[Todo], refs: RefContext) -> Resolution | None:
    """Todos by their place in the list the user last saw (else the current list, oldest first):
    "the second one", "#3", "the last two"; None when `text` names no place."""
    base, first = (list(refs.shown), refs.first) if refs.shown is not None else (list(todos), 1)
    if span := _SPAN_RE.match(text):
        count = number(span["count"])
        picked = base[:count] if span["end"].lower() in ("first", "top") else base[-count:]
        fits = 0 < count <= len(base)
    elif place := _POSITION_RE.match(text):
        ordinal = ORDINALS[place["ordinal"].lower()] if place["ordinal"] else number(place["number"] or place["word"])
        index = ordinal - first if ordinal > 0 else len(base) + ordinal
        picked, fits = base[index : index + 1], 0 <= index < len(base)
    else:
        return None
    return _still_listed(picked, todos) if fits else Resolution(problem=answers.no_position_answer(text, base))


def _by_pronoun(text: str, many: bool, todos: Sequence[Todo], refs: RefContext) -> Resolution:
    if not refs.recent:
        if many and "all" in words(text) and todos:  # "mark all of them done", with nothing said before
            return Resolution(todos=tuple(todos), quality=1)
        return Resolution(problem=answers.unclear_reference_answer(text))
    if many and len(refs.recent) == 1 and refs.pair and _BOTH_RE.search(text):
        return _still_listed(refs.pair, todos)  # "add X", "and Y", "can both of those be saturday"
    if many and len(refs.recent) == 1 and _of_the_shown(text, refs):
        return _still_listed(refs.shown or (), todos)  # "anything about the car?" - "delete the service one" - "both"
    if len(refs.recent) > 1 and not many:
        current = [todo for todo in todos if todo.id in {r.id for r in refs.recent}]
        if len(current) != 1:
            return _ask_which(text, current)
        return Resolution(todos=tuple(current), quality=2)
    return _still_listed(refs.recent, todos)


_BUT_NOT_RE = re.compile(r"^(?P<ref>.+?)\s*,?\s+(?:but |and )?not (?:the )?(?P<old>.+)$", re.I)
_BOTH_RE = re.compile(r"\b(?:both|two)\b", re.I)


def _of_the_shown(text: str, refs: RefContext) -> bool:
    """ "both of them" after a change of one of the two todos just shown: both."""
    shown = refs.shown or ()
    return len(shown) == 2 and refs.recent[0].id in {todo.id for todo in shown} and bool(_BOTH_RE.search(text))


def _ask_which(text: str, candidates: Sequence[Todo]) -> Resolution:
    return Resolution(candidates=tuple(candidates), problem=answers.which_one_answer(text, candidates), quality=-1)


def _still_listed(meant: Sequence[Todo], todos: Sequence[Todo]) -> Resolution:
    """The meant todos as they are now; the ones deleted since are reported as gone."""
    current = {todo.id: todo for todo in todos}
    found = tuple(current[todo.id] for todo in meant if todo.id in current)
    if not found:
        return Resolution(problem=answers.gone_answer([todo.title for todo in meant], todos))
    return Resolution(todos=found, quality=2)


def ref_context(turns: Sequence[Turn], today: date | None) -> RefContext:
    """What positions and pronouns in the next message point at, after these turns."""
    shown, first = shown_list(turns, today)
    changed = [turn.changed for turn in turns if turn.changed]
    pair = tuple(todo for todos in changed[-2:] for todo in todos) if len(changed) >= 2 else ()
    return RefContext(shown, recent_subjects(turns, today), first, today, pair if len(pair) == 2 else ())


def shown_list(turns: Sequence[Turn], today: date | None) -> tuple[tuple[Todo, ...] | None, int]:
    """The list the user last saw, and the number its first todo had: the latest turn that only
    listed todos to show them."""
    for index in reversed(range(len(turns))):
        turn = turns[index]
        if len(turn.changed) > 1 and turn.ran("add_todo") and not turn.is_listing:
            return tuple(turn.changed), 1  # "Added 2 todos: A and B" - "I just did the first one"
        if asked := _asked_to_approve(turn):
            return asked, 1  # "Delete A, B and C? Shall I go ahead?" - "just the second one": B
        if not turn.is_listing or turn.answer is None:
            continue
        intent = understand(turns[: index + 1], today)
        if isinstance(intent, ChangeIntent | BulkIntent | MultiIntent):
            continue  # that listing found a todo to change; the user was not shown it
        todos = turn.listing()
        if isinstance(intent, ListIntent):
            return tuple(answers.visible(intent, todos)), (intent.offset or 0) + 1
        return tuple(todos), 1
    return None, 1


def _asked_to_approve(turn: Turn) -> tuple[Todo, ...]:
    """The todos our approval question named ("- Delete "Pay rent""), in its order (the paused calls are not
    in the history until they are decided)."""
    if not turn.asked_to_approve:
        return ()
    answer = turn.answer or ""
    places = {todo: answer.find(f'"{todo.title}"') for call in turn.ran("list_todos") for todo in call.listed}
    return tuple(sorted((todo for todo, place in places.items() if place >= 0), key=places.__getitem__))


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
            return tuple(answers.visible(intent, todos))
        # A status question, or our "which one?": what it was about, read as it was read then.
        earlier = turns[:index]
        found = choose(intent, todos, ref_context(earlier, today))[1]
        if found.todos or found.candidates:
            return found.todos or found.candidates
    return ()


def choose(intent: ChangeIntent, todos: Sequence[Todo], refs: RefContext) -> tuple[Choice, Resolution]:
    """The reading of the request whose reference fits the list best, and what it picked."""
    if intent.follow_up_of is not None:
        return _choose_follow_up(intent, intent.follow_up_of, todos, refs)
    resolved = [(choice, _resolve_choice(choice, intent, todos, refs)) for choice in intent.choices]
    # A todo named in another clause beats what "it" meant before: "the tap leaks again, reopen it".
    return max(
        resolved, key=lambda pair: (pair[0].antecedent and pair[1].quality >= 0, pair[1].quality, len(pair[0].ref))
    )


def _resolve_choice(choice: Choice, intent: ChangeIntent, todos: Sequence[Todo], refs: RefContext) -> Resolution:
    found = resolve(choice.ref, todos, refs, intent.action, strict=intent.tentative)
    if found.todos or found.candidates or not (choice.antecedent or intent.tentative):
        return found  # a remark or a statement may name its todo in other words: "got hold of the landlord"
    return mentioned(choice.ref, todos) or found


def mentioned(text: str, todos: Sequence[Todo]) -> Resolution | None:
    """The one todo a whole remark talks about ("the rent didn't go through" -> "Pay rent"): most of
    its telling words occur in the remark, and more of them than of any other todo's."""
    said = {stem(word) for word in words(text)}
    scored: dict[float, list[Todo]] = {}
    for todo in todos:
        telling = key_words(todo.title) - WEAK_STEMS
        hits = [word for word in telling if any(same_word(word, other) for other in said)]
        if telling and len(hits) / len(telling) >= 0.5:
            scored.setdefault(len(hits) / len(telling), []).append(todo)
    best = scored.get(max(scored)) if scored else None
    return Resolution(todos=(best[0],), quality=0) if best and len(best) == 1 else None


def _choose_follow_up(
    intent: ChangeIntent, asked: ChangeIntent, todos: Sequence[Todo], refs: RefContext
) -> tuple[Choice, Resolution]:
    """The user answered our "which one?": pick among the candidates we named, in the order named."""
    previous, found = choose(asked, todos, refs)
    reply = intent.choices[0].ref
    pool = found.candidates or found.todos
    if pool and (not_that := NOT_THIS_BUT_RE.match(reply)):  # "not the session, the other one"
        excluded = resolve(not_that["old"], pool, RefContext(shown=pool, recent=pool), intent.action)
        pool = tuple(todo for todo in pool if todo not in excluded.todos)
        reply = not_that["new"]
        if OTHER_RE.match(reply) and len(pool) == 1:
            return replace(previous, ref=reply), Resolution(todos=pool, quality=1)
    if pool:
        narrowed = resolve(reply, pool, RefContext(shown=pool, recent=pool), intent.action)
        if narrowed.todos:
            return replace(previous, ref=reply), narrowed
    return replace(previous, ref=reply), resolve(reply, todos, refs, intent.action)
