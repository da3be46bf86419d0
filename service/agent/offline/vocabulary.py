"""Vocabulary: the words each intent is recognised by, one table per intent.

The readers build their patterns from these tables, so a new way of saying "delete" is one word added
here, and the bulk reader, the clause splitter and the typo fixer learn it at the same time.
"""

from __future__ import annotations

import re

from service.agent.offline.text import alternation
from service.matching import stem

VERBS: dict[str, tuple[str, ...]] = {
    "add": ("add", "adding", "create", "creating", "insert", "schedule", "jot", "jot down", "write down",
            "note down", "set up"),
    "complete": ("complete", "completed", "finish", "finished", "close", "closed", "resolve", "resolved",
                 "done with", "accomplished", "tick off", "tick", "check off", "cross off", "cross out",
                 "strike off", "strike out", "strike through", "knock off", "scratch off", "scratch out"),
    "reopen": ("reopen", "re-open", "unmark", "uncheck", "untick", "uncomplete", "un-complete", "unfinish",
               "restore", "revive", "reactivate"),
    "delete": ("delete", "deleting", "remove", "removing", "erase", "drop", "trash", "scrap", "scratch",
               "discard", "ditch", "bin", "nuke", "purge", "kill", "get rid of", "do away with", "cancel",
               "strike", "throw away", "throw out", "lose", "axe", "clear", "wipe", "dump", "toss"),
    "rename": ("rename", "renaming", "retitle", "relabel", "reword", "rephrase"),
    "due": ("move", "moving", "postpone", "push back", "push", "reschedule", "defer", "delay", "bump", "shift",
            "put off"),
    "undo": ("undo", "revert", "reverse", "roll back", "rollback", "take back", "go back"),
    "mark": ("mark", "marking", "set", "flag", "make", "change", "put", "switch", "turn", "update"),
}  # fmt: skip
"""The commands of each intent ("mark" is the verb of "mark X as done / not done")."""

DONE_STATES = (
    "done", "complete", "completed", "finished", "closed", "resolved", "ticked", "ticked off", "checked",
    "checked off", "crossed off", "paid", "sorted", "handled", "dealt with", "taken care of", "accomplished",
)  # fmt: skip
OPEN_STATES = (
    "not done", "undone", "not complete", "not completed", "incomplete", "not finished", "unfinished", "open",
    "pending", "todo", "to do", "active", "uncompleted", "outstanding", "unticked", "unchecked", "not ticked off",
)  # fmt: skip

ERRAND_VERBS = frozenset({
    "call", "buy", "book", "email", "pay", "clean", "pick", "phone", "text", "ring", "wash", "walk", "cook",
    "water", "feed", "bring", "return", "submit", "prepare", "renew", "order", "post", "mail", "fix", "visit",
    "write", "finish", "tidy", "vacuum", "hoover", "iron", "pack", "print", "sign", "schedule", "collect",
    "send", "file", "study", "practise", "practice", "review", "plan", "organise", "organize", "repair",
    "replace", "paint", "mow", "sweep", "empty", "take", "drop", "get", "reserve", "rent", "hire", "compare",
    "research", "arrange", "confirm", "apply", "register", "install", "cancel", "mop", "dust", "bake", "fill",
    "meet", "watch", "learn", "update", "reply", "answer", "respond", "charge", "sort", "defrost", "grab",
    "fetch",
})  # fmt: skip
"""Verbs that start a todo ("call mom"): a bare phrase with one reads as a todo, a list shares them, and a
past form of one ("I paid the gas bill") tells of a todo done."""
ERRAND_STEMS = frozenset(stem(verb) for verb in ERRAND_VERBS)
WEAK_STEMS = ERRAND_STEMS | {stem(verb) for verb in ("do", "make", "go", "see", "check", "read", "start", "up")}
"""In a reference, these tell less than the thing done: "call" in "call the bank"."""


def verbs(*intents: str) -> str:
    """The commands of these intents as a regex alternation."""
    return alternation(verb for intent in intents for verb in VERBS[intent])


def patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    """A table of patterns, each matched without regard to case."""
    return tuple(re.compile(source, re.I) for source in sources)


DONE_RE = alternation(DONE_STATES)
OPEN_RE = alternation(OPEN_STATES)
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
