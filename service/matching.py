"""Word matching shared by the server's todo references and the offline model: words, a crude stemmer
and typo-tolerant word equality. Hand-written because it must be deterministic, cheap per title and
agree with itself on both sides of a comparison; no stemming library gives "bought" -> "buy" without a
language model."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD_RE = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def key_words(text: str, filler: frozenset[str] | set[str]) -> frozenset[str]:
    """The stems that identify a todo, without the `filler` words: "the milk one" -> {"milk"}."""
    tokens = words(text)
    kept = [token for token in tokens if token not in filler] or tokens
    return frozenset(stem(token) for token in kept)


ORDINALS = {
    "first": 1, "1st": 1, "top": 1, "oldest": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1, "bottom": -1, "final": -1, "latest": -1,
    "newest": -1, "most recent": -1, "penultimate": -2, "second last": -2, "second to last": -2,
    "next to last": -2, "one before last": -2,
}  # fmt: skip
"""Positions in a list said as words, the last ones counted from the end."""


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
    "rang": "ring", "rung": "ring",
    "drew": "draw", "drank": "drink", "read": "read", "put": "put", "set": "set", "shut": "shut",
    "broke": "break", "broken": "break", "forgot": "forget", "forgotten": "forget", "fell": "fall",
    "fallen": "fall", "froze": "freeze", "frozen": "freeze", "stole": "steal", "stolen": "steal", "tore": "tear",
    "torn": "tear", "lost": "lose",
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
    """Equal stems, or a likely typo: of a longer word ("grocries" for "groceries"), or two swapped
    letters in a short one ("mlik" for "milk"; other one-letter slips there make real words: "book", "cook")."""
    if a == b:
        return True
    if min(len(a), len(b)) >= 5:
        return SequenceMatcher(None, a, b).ratio() >= 0.8
    return len(a) == len(b) >= 4 and is_transposition(a, b)


def is_transposition(a: str, b: str) -> bool:
    """`a` is `b` with two neighbouring letters swapped."""
    diff = [index for index in range(len(a)) if a[index] != b[index]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
