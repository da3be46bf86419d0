"""Deeds told as done: "I fed the fish", "dry cleaning picked up", "the rent, I have paid it" complete the todo
they name (a guess, `tentative`: it needs a stronger match than a command); "mum called" and "the surgery rang"
tell what someone else did, and a story ("I meant to call mum but the train was delayed") tells none."""

from __future__ import annotations

import re

from service.agent.offline.changes import BY_MISTAKE_RE, clean_ref
from service.agent.offline.chatter import PRONOUN_RE, is_past
from service.agent.offline.dates import ANY_DAY, extract_date
from service.agent.offline.intents import ChangeIntent, Choice
from service.agent.offline.text import NOT_AN_END, alternation
from service.agent.offline.vocabulary import ERRAND_VERBS, TABLES, vocab
from service.matching import stem, words

_PAST_RE = re.compile(
    r"^(?:(?P<subject>i|we)\s+(?P<perfect>have\s+)?)?(?P<adverb>(?:just|already|finally|also|now)\s+)*"
    r"(?P<ref>(?P<verb>[a-z]+)\s+\S.*)$",
    re.I,
)
_PASSIVE_RE = re.compile(
    r"^(?P<ref>.+?)\s+(?:is|are|was|were|has been|have been|got)\s+(?:now |all |finally |already |just )*"
    r"(?P<verb>[a-z]+(?: out| off| up| down| in| back| away)?)(?: now| too| as well)?$",
    re.I,
)
"""The same deed told of the todo: "the bedsheets are changed" is "changed the bedsheets", "the bins are
taken out" is "taken out the bins"."""
_BARE_PASSIVE_RE = re.compile(
    r"^(?P<ref>(?!(?:i|we|you|he|she|they|it|there|this|that|my|our|his|her|their|your)\b)[\w'-]+(?: [\w'-]+){0,4}?)\s+"
    r"(?P<verb>[a-z]+(?: out| off| up| down| in| back| away)?)"
    r"(?: (?:now|too|as well|today|yesterday|this morning|this afternoon|last night|earlier|at last|finally))*$",
    re.I,
)
"""The same, said in a hurry: "dry cleaning picked up", "Henderson invoice went out this morning"."""
_ERRAND_STEMS = frozenset(stem(verb) for verb in ERRAND_VERBS)
_THEY_DID = vocab("done_statement", "said_by_others")
_UNDOING = vocab("done_statement", "undoing")
_SENT_RE = re.compile(r"^(?:went|gone) out$", re.I)


def _errand_done(match: re.Match[str] | None) -> re.Match[str] | None:
    """Said in a hurry, only an errand's verb tells a deed: "the machine broke" is news, not a chore done."""
    if match is None:
        return None
    if (len(words(match["ref"])) < 2 and " " not in match["verb"]) or words(match["verb"])[0] in _THEY_DID:
        return None  # "mum called", "boss emailed", "the surgery rang": someone else did it
    return match if stem(words(match["verb"])[0]) in _ERRAND_STEMS or _SENT_RE.match(match["verb"]) else None


_OVER_RE = re.compile(r"\b(?:finally|already|at last|yesterday|this morning|earlier today|just now)\b", re.I)
"""What makes "I have register at the GP" a deed told, not a plan ("I have call with the bank tomorrow")."""
_TOPIC_DEED_RE = re.compile(
    r"^(?P<ref>[^,]{2,60}),\s+(?:i|we)\s+(?:have\s+|had\s+)?(?:(?:already|just|finally|also)\s+)*"
    r"(?P<verb>[a-z]+(?: out| off| up)?)\s+(?:it|them)\b.*$",
    re.I,
)
"""The todo first, then the deed: "the rent, I have paid it yesterday"."""
_NOT_COMPLETION = vocab("done_statement", "not_deeds")
_STORY_RE = re.compile(rf"\b(?:{alternation(TABLES['done_statement']['story'])})\b", re.I)
_DEED_MAX_WORDS = 12
"""Longer, a sentence tells a story ("Monday I meant to call mum but the train was delayed and ...")."""
"""Past verbs that tell of something other than a chore done."""


def parse_done_statement(text: str) -> ChangeIntent | None:
    """ "I bought the milk", "just called mom": a past-tense deed may be a todo that is now done.

    It is only a guess, so the todo it names needs a stronger match, and when nothing matches, the
    answer says so and nothing changes.
    """
    if BY_MISTAKE_RE.search(text) or len(words(text)) > _DEED_MAX_WORDS or re.search(rf"[.!?]{NOT_AN_END}\s", text):
        return None  # "I ticked X by mistake" tells of a slip, not a deed; a long sentence, or two, tell a story
    if topic := _TOPIC_DEED_RE.match(text):
        text = f"{topic['verb']} {topic['ref']}"
    passive = _PASSIVE_RE.match(text) or _errand_done(_BARE_PASSIVE_RE.match(text))
    if passive and _STORY_RE.search(passive["ref"]):
        passive = None  # "I meant to call mum but the train was delayed": no todo is "the train"
    if passive and is_past(words(passive["verb"])[0]) and not set(words(passive["ref"])[:1]) & ERRAND_VERBS:
        text = f"{passive['verb']} {passive['ref']}"  # a request ("send X saying Y is broken") tells no deed
    match = _PAST_RE.match(text)
    if match is None:
        return None
    verb = match["verb"].lower()
    # "I have register at the GP": the verb's plain form after "have" is a deed told by a learner
    learner = bool(match["perfect"]) and verb in ERRAND_VERBS and bool(_OVER_RE.search(text))
    if not (is_past(verb) or learner) or verb in _NOT_COMPLETION:
        return None
    day, ref = extract_date(match["ref"], ANY_DAY)  # "rang the bank this morning": the deed, not when
    if match["perfect"] and verb == "got" and day and day > ANY_DAY:
        return None  # "I've got the dentist on friday": what is coming, not a deed done
    done_to = ref.split()[1:]
    for size in (3, 2, 1):  # "got both at Lidl on the way home": the todos just talked about, wherever
        after = done_to[size : size + 1]
        if len(done_to) >= size and PRONOUN_RE.match(pointer := " ".join(done_to[:size])) and not set(after) & _UNDOING:
            return ChangeIntent("complete", (Choice(pointer),), tentative=True)
    return ChangeIntent("complete", (Choice(clean_ref(ref)),), tentative=True)
