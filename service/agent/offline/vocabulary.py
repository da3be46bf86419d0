"""Vocabulary: the words each intent is recognised by, one table per intent, kept as data in
`vocabulary.toml` and read once at import.

The readers build their patterns from these tables, so a new way of saying "delete" is one word added
there, and the bulk reader, the clause splitter and the typo fixer learn it at the same time.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from service.agent.offline.text import alternation
from service.matching import stem

TABLES: dict[str, dict[str, Any]] = tomllib.loads(Path(__file__).with_name("vocabulary.toml").read_text("utf-8"))


def vocab(intent: str, kind: str) -> frozenset[str]:
    """One word list of an intent's table, as a set."""
    return frozenset(TABLES[intent][kind])


VERBS = {intent: tuple(table["verbs"]) for intent, table in TABLES.items() if "verbs" in table}
"""The commands of each intent ("mark" is the verb of "mark X as done / not done")."""
ERRAND_VERBS = vocab("done_statement", "errands")
WEAK_STEMS = frozenset(stem(verb) for verb in ERRAND_VERBS | vocab("done_statement", "weak"))
"""In a reference, these tell less than the thing done: "call" in "call the bank"."""


def verbs(*intents: str) -> str:
    """The commands of these intents as a regex alternation."""
    return alternation(verb for intent in intents for verb in VERBS[intent])


def patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    """A table of patterns, each matched without regard to case."""
    return tuple(re.compile(source, re.I) for source in sources)


DONE_RE = alternation(TABLES["complete"]["states"])
OPEN_RE = alternation(TABLES["reopen"]["states"])
_COMMAND_RE = re.compile(
    rf"^(?:{verbs('add', 'complete', 'reopen', 'delete', 'rename', 'due', 'undo')}|mark|put|check \S+ off|remind"
    r"|remember|see|view|list|show|know)\b",
    re.I,
)


def starts_command(text: str) -> bool:
    """A clause that starts with a command, not an errand ("delete X", not "drop off X"): a new action after
    an add ("add X and delete Y"), the request in "I need to delete the milk"."""
    match = _COMMAND_RE.match(text)
    return match is not None and match[0].lower() not in ERRAND_VERBS
