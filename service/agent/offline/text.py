"""Text: one spelling for quotes and contractions, crude stemming, fuzzy word matching, and the
small phrase helpers the answers are written with."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

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

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10}  # fmt: skip


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


def strip_all(pattern: re.Pattern[str], text: str, chars: str = "") -> str:
    """Cut `pattern` (and then `chars` at the ends) until nothing changes: fillers come in runs
    ("..., please, thanks")."""
    while (stripped := pattern.sub("", text).strip(chars)) != text:
        text = stripped
    return text


def alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of literal phrases, longest first so "tuesday" wins over "tue"."""
    return "|".join(sorted((re.escape(phrase) for phrase in phrases), key=len, reverse=True))


IRREGULAR = {
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
"""Irregular past forms and their verbs: for stemming, and to tell a past deed ("bought") from a request."""


def stem(word: str) -> str:
    """A crude stemmer that makes "bought"/"buy", "called"/"call" and "eggs"/"egg" meet.

    Both the user's words and the titles go through it, so its mistakes ("speed" -> "spe") cancel out.
    """
    word = word.lower()
    base = IRREGULAR.get(word) or _strip_suffix(word)
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
