"""Chatter: what is not a request - greetings, thanks, help, the fillers around a request ("could you
please ... thanks"), remarks ("we ran out") and echoes ("put it on the list") - and misspelt command words."""

from __future__ import annotations

import difflib
import re

from service.agent.offline.intents import ReplyIntent
from service.agent.offline.text import expand, strip_all
from service.agent.offline.vocabulary import TABLES, verbs, vocab
from service.matching import IRREGULAR, words

HELP_RE = re.compile(rf"^(?:{'|'.join(TABLES['small_talk']['help'])})[?!. ]*$", re.I)
_GREETING_WORDS = vocab("small_talk", "greeting")
_GREETING_CORE = vocab("small_talk", "greeting_core")
_THANKS_WORDS = vocab("small_talk", "thanks")
_EXCLAMATION_RE = re.compile("|".join(TABLES["small_talk"]["exclamations"]), re.I)
_BYE_WORDS = vocab("small_talk", "bye")
_ACK_WORDS = _THANKS_WORDS | _BYE_WORDS | vocab("small_talk", "ack")
_FILLERS = {kind: "|".join(TABLES["small_talk"][kind]) for kind in ("greetings", "leading", "agreeing", "trailing")}
_LEADING_FILLER_RE = re.compile(
    rf"^(?:(?P<greet>{_FILLERS['greetings']})(?: there| dear| love| all| everyone| mate)?|{_FILLERS['leading']}"
    rf"|(?:{_FILLERS['agreeing']})(?=\s*[,.!;:-]))\b[\s,!.:;-]*",
    re.I,
)
# After the request's own "?" too: "could you add X to my list? Cheers".
_TRAILING_FILLER_RE = re.compile(rf"(?:[\s,.!?]+(?:{_FILLERS['trailing']}))+[\s.!?]*$|[\s.!?]+$", re.I)
_EMOTICON_RE = re.compile(rf"(?:^|\s)(?:{'|'.join(TABLES['small_talk']['emoticons'])})(?=\s|$)", re.I)
# Emoji around the request ("🛒 add oat milk", "... for thursday 🎁🙏"); after a command they may be part of a
# title ("add 🎂 bake a cake").
_EMOJI_CHARS = r"\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D"
_EMOJI = rf"[{_EMOJI_CHARS}\s]+"
_OUTER_EMOJI_RE = re.compile(rf"^{_EMOJI}|(?<=\S){_EMOJI}$")
_INNER_EMOJI_RE = re.compile(rf"[{_EMOJI_CHARS}]+")
_BETWEEN_WORDS_EMOJI_RE = re.compile(rf"(?<=\w)\s*[{_EMOJI_CHARS}]+\s*(?=\w)")
_TICKS = r"(?:\s*[\u2705\u2714\u2611]\ufe0f?)+"
_TICKS_RE = re.compile(_TICKS)
_TICKS_BETWEEN_RE = re.compile(rf"(?<=\w){_TICKS}\s*(?=\w)")


_COMMAND_WORDS = tuple(TABLES["small_talk"]["commands"])
_VOWELS = frozenset("aeiouy")


def correct_typos(text: str, first_only: bool = False) -> str:
    """The message with misspelt command words fixed ("shwo my todso" -> "show my todos"); with `first_only`,
    only its first word, the command's place ("chnage grocery shopping to ..." keeps its "shop").

    Only tried once nothing else understood the message: a title may well contain "todd" or "shop".
    A word is fixed to the most similar command word with its first letter (difflib's ratio, at least
    3/4); a three-letter word only when it has no vowel (so is no English word: "too" stays) and only
    to a four-letter word ("shw" -> "show", "lst" -> "list").
    """
    text = _AD_RE.sub("add", text)  # the one two-letter slip: "ad" opening a message is no English request
    return re.sub(r"[A-Za-z]{3,}", lambda match: _corrected(match[0]), text, count=1 if first_only else 0)


_AD_RE = re.compile(r"^ad(?=\s+\w)", re.I)


def _corrected(word: str) -> str:
    lower = word.lower()
    if lower in _COMMAND_WORDS or (len(lower) == 3 and set(lower) & _VOWELS):
        return word
    known = [known for known in _COMMAND_WORDS if known[0] == lower[0] and (len(lower) > 3 or len(known) == 4)]
    return next(iter(difflib.get_close_matches(lower, known, n=1, cutoff=0.75)), word)


_HESITATION_RE = re.compile(rf"(?<![\w'-])(?:{'|'.join(TABLES['small_talk']['hesitations'])})(?![\w'-])\s*,?", re.I)


_ADDING_RE = re.compile(rf"^\W*(?:{verbs('add')})\b", re.I)


def undecorated(text: str) -> str:
    """Emoji inside a message that does not add are decoration ("rent's paid 🎉🎉 finally"), and a tick mark after
    a todo is the word done ("dentist ✅"); in an add they may be the title's own ("add 🎂 bake a cake")."""
    if _ADDING_RE.match(text):
        return text
    # Between two words an emoji ends a sentence ("untick X 🙄 the kids made a mess of it again").
    text = _TICKS_RE.sub(" done ", _TICKS_BETWEEN_RE.sub(" done. ", text))
    text = _INNER_EMOJI_RE.sub(" ", _BETWEEN_WORDS_EMOJI_RE.sub(". ", text))
    return " ".join(text.split())


_SIGN_OFF_RE = re.compile(
    rf"(?<=[.!?;:])\s*(?:{'|'.join(TABLES['small_talk']['sign_offs'])})[\s,.!;]*"  # a line break reads as "; "
    r"(?:[A-Z][\w'-]*\.?(?:\s+[A-Z][\w'-]*\.?){0,2}[\s.!]*)?$",
    re.I,
)


def without_sign_off(text: str) -> str:
    """A letter without its closing line and name: "... as finished. With kind regards, Harold." keeps the
    sentences before it (only after a full stop: "add milk, love" may mean it)."""
    return _SIGN_OFF_RE.sub("", text)


def strip_fillers(text: str) -> tuple[str, bool]:
    """("Hi! Could you please add milk, thanks") -> ("add milk", greeted=True); a hesitation anywhere goes too
    ("add call the vet and uh also add dog food")."""
    greeted = False
    text = _OUTER_EMOJI_RE.sub("", _EMOTICON_RE.sub("", undecorated(_HESITATION_RE.sub("", text)))).strip()
    while match := _LEADING_FILLER_RE.match(text):
        greeted = greeted or bool(match["greet"])
        text = text[match.end() :]
    return strip_all(_TRAILING_FILLER_RE, text).strip(), greeted


def parse_small_talk(text: str) -> ReplyIntent | None:
    """Greetings, thanks, goodbyes, "ok" and help: the whole message is one of those."""
    if HELP_RE.match(text):
        return ReplyIntent("help")
    if _EXCLAMATION_RE.fullmatch(text.strip(" !.")):
        return ReplyIntent("ack")
    ordered = words(expand(text))
    tokens = set(ordered)
    if not tokens or ordered[0] in {"is", "are", "was", "did", "have", "has"}:  # "is it done?" asks something
        return None
    if "done" in tokens and tokens & {"it", "that", "this"}:  # "that's done" completes the todo just discussed
        return None
    if tokens <= _GREETING_WORDS and tokens & _GREETING_CORE:
        return ReplyIntent("greeting")
    if (
        ordered[0] in _THANKS_WORDS
        and ordered[1:2] == ["for"]
        and len(ordered) <= 6
        and not re.search(r"[.!?;,]\s*\S", text)
    ):
        return ReplyIntent("thanks")  # "thanks for keeping me sane"
    if tokens <= _ACK_WORDS:
        if tokens & _THANKS_WORDS:
            return ReplyIntent("thanks")
        return ReplyIntent("bye" if tokens & _BYE_WORDS else "ack")
    return None


_POINTERS = {many: "|".join(TABLES["references"][many]) for many in ("one", "many")}
PRONOUN_RE = re.compile(rf"^(?:(?P<one>{_POINTERS['one']})|(?P<many>{_POINTERS['many']}))$", re.I)
"""References that point back ("it", "both of them") rather than name a todo."""


def refers_back(reference: str) -> bool:
    """ "it", or words that end in it: a deed done to it ("I haven't called them yet", "I'm sure I paid it")."""
    return bool(PRONOUN_RE.match(reference) or PRONOUN_RE.match(reference.split()[-1] if reference.split() else ""))


REST_RE = re.compile(r"^(?:all )?(?:the rest|the others|the other ones|everything else)(?: of them)?$", re.I)
"""The todos another clause of the message did not name: "bought the stamps and did all the rest"."""
_SUBJECTS = vocab("remarks", "subjects")
_REMARK_LEADS = _SUBJECTS | vocab("remarks", "leads")
_SUBJECT_LEADS = vocab("remarks", "subject_leads")
_NEGATED_MODALS = vocab("remarks", "negated_modals")
_FINITE_WORDS = vocab("remarks", "finite")
_POINTING_WORDS = vocab("remarks", "pointing")
_ECHO_WORDS = _POINTING_WORDS | vocab("remarks", "echo")


def is_remark(text: str, *, past: bool = True) -> bool:
    """A clause that tells rather than asks: "we ran out", "because it's her birthday", "the tap is
    leaking again", "the meeting moved" (unless not `past`: a list item may be "some canned tomatoes").
    It may name the todo a pronoun elsewhere means, but is no todo or request itself."""
    tokens = words(expand(text))
    if len(tokens) < 2:
        return False
    later = tokens[1:]
    if tokens[0] == "not":  # "not doing that this year" tells; "not blue" corrects
        return any(word.endswith("ing") for word in later)
    if (tokens[0] in _SUBJECT_LEADS and tokens[1] in _SUBJECTS) or (
        tokens[0] in _NEGATED_MODALS and tokens[1] == "not"
    ):
        return True
    return tokens[0] in _REMARK_LEADS or bool(set(later) & _FINITE_WORDS) or (past and any(map(is_past, later)))


def is_past(word: str) -> bool:
    return word in IRREGULAR or (word.endswith("ed") and len(word) > 4)


def is_echo(text: str) -> bool:
    """A clause that only points back at the rest of the message: "put it on the list", "set that"."""
    tokens = set(words(text))
    return bool(tokens & _POINTING_WORDS) and tokens <= _ECHO_WORDS
