"""Text: one spelling for quotes, dashes, list lines and contractions, and the small phrase helpers the
answers are written with."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}
)

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
        re.compile(
            r"\b(it|that|this|what|there|here|everything|nothing|something|who|which|where|when|how)'?s\b", re.I
        ),
        r"\1 is",
    ),
    (re.compile(r"\bso's\b", re.I), "so is"),  # "the gas bill's paid and so's the phone bill"
    # "the wine's not done": no possessive comes before "not"
    (re.compile(r"(?<=\w)'s (?=not\b|never\b|still\b)", re.I), " is "),
    # and text-speak
    (re.compile(r"\bw(?:o|a)t\b", re.I), "what"),
    (re.compile(r"\bb4\b", re.I), "before"),
    (re.compile(r"\b(done|finished|through|dealt) w/?(?=\s)", re.I), r"\1 with"),  # "done w laundry"
    (re.compile(r"\b2 (?=(?:mon|tue|wed|thu|fri|sat|sun|tmrw|tomorrow|tmr|next|this|the)\w*\b)", re.I), "to "),
    (re.compile(r"\b(can|could|would|will|do|did|are|r|if|thank) (?:u|ya)\b", re.I), r"\1 you"),
    (re.compile(r"\bur\b", re.I), "your"),
    (re.compile(r"\b2 (?=do\b)", re.I), "to "),
    (re.compile(r"(?<=\bneed )2\b", re.I), "to"),
    (re.compile(r"(?<=\s)'?em\b", re.I), "them"),  # "tick em off"
)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10}  # fmt: skip


def number(text: str) -> int:
    """ "3" or "three" as 3."""
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


_BULLET_RE = re.compile(r"^(?:[-*+\u2022\u00b7]|\d{1,2}[.)]|\[[ xX]?\])\s+")
_LIST_LINE_MAX_WORDS = 6


def normalize(text: str) -> str:
    """One spelling of quotes, dashes and spaces, so the patterns below need not care."""
    return " ".join(flatten_lines(text.translate(_TYPOGRAPHY)).split())


def flatten_lines(text: str) -> str:
    """Lines as one line; a list written one item per line ("add these:\n- milk\n- eggs") keeps its
    items apart with "; ", which the item splitter reads like commas.

    A line is a list item when it has a bullet or number, or (in a list without them) is short and
    not a sentence; an intro line ("add these", "add:") joins its first item with a colon, so "add
    these: milk; eggs" reads as one list.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return text
    if _BARE_ADD_RE.fullmatch(lines[0]):  # "add" alone on its line, the items under it
        lines[0] = f"{lines[0]}:"
    bulleted = any(_BULLET_RE.match(line) for line in lines)
    joined = _BULLET_RE.sub("", lines[0])
    previous_item = _is_list_line(lines[0], bulleted)
    for line in lines[1:]:
        item = _is_list_line(line, bulleted)
        # a line that is no item after the list ends it, as a sentence of its own ("With thanks, Joan")
        glue = (
            (". " if previous_item and not joined.endswith(":") else " ")
            if not item
            else "; "
            if previous_item
            else ": "
        )
        glue = " " if joined.endswith(":") else glue
        joined = f"{joined}{glue}{_BULLET_RE.sub('', line)}"
        previous_item = item
    return joined


def _is_list_line(line: str, bulleted: bool) -> bool:
    if bulleted:
        return bool(_BULLET_RE.match(line))
    return len(line.split()) <= _LIST_LINE_MAX_WORDS and not line.endswith((".", "!", "?", ":"))


_BARE_ADD_RE = re.compile(r"(?:please\s+)?(?:add|put|new|todo|to-?do|add these|add this)", re.I)


QUOTE_RE = re.compile(r"\"|(?<!\w)'|'(?!\w)")
"""A quote mark, not an apostrophe: no cut is made between two of them."""
NOT_AN_END = r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bProf\.)"
"""After a full stop: a title of address is no sentence end ("watered Mrs. Patel's plants")."""


def expand(text: str) -> str:
    """Spell contractions and text-speak out ("isn't" -> "is not", "wot" -> "what") so one pattern covers
    both ways of writing.

    Titles are taken from the unexpanded text, so they keep the user's spelling.
    """
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


def strip_all(pattern: re.Pattern[str], text: str, chars: str = "") -> str:
    """Cut `pattern` (and then `chars` at the ends) until nothing changes: fillers come in runs
    ("..., please, thanks")."""
    while (stripped := pattern.sub("", text).strip(chars)) != text:
        text = stripped
    return text


def alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of literal phrases, longest first so "tuesday" wins over "tue"."""
    return "|".join(sorted((re.escape(phrase) for phrase in phrases), key=len, reverse=True))


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
