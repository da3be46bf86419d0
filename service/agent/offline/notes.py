"""Reading changes to a todo's notes: "add a note to X: ...", "for the cake one, add a note: ...", "put 'ring
after 5' on the GP one", "set the description of X to ...", and "remove the note from X" (the todo stays)."""

from __future__ import annotations

import re

from service.agent.offline.changes import clean_ref, cut_choices, separated
from service.agent.offline.intents import ChangeIntent, Choice
from service.agent.offline.vocabulary import patterns

_DESCRIBE_RES = separated(
    (
        r"^(?:add|attach|put|write|append|include|set|leave)\s+(?:a\s+|an\s+|the\s+|some\s+)?(?:note|notes"
        r"|description|details|detail|comment)\s+(?:to|on|for)\s+(?P<body>.+)$",
        r"\s*:\s+|\s+saying\s+|\s+that says\s+|\s+reading\s+|\s+-\s+",
    ),
    (
        r"^(?:set|change|update|edit|replace|make)\s+(?:the\s+)?(?:description|notes?|details?|comment)\s+"
        r"(?:of|for|on)\s+(?P<body>.+)$",
        r"\s+(?:to|as|with)\s+|\s*:\s+",
    ),
    (
        r"^(?:set|change|update|edit)\s+(?P<body>.+?\s+(?:description|notes?|details?)\s+.+)$",
        r"(?:'s)?\s+(?:description|notes?|details?)\s+(?:to|as)(?: say| read)?\s+",
    ),
    (r"^describe\s+(?P<body>.+)$", r"\s+as\s+"),
)


_TODO_ONE = r"(?P<ref>(?:the|my)\s+.+?\s+(?:one|todo|task|item|reminder))"
_NOTE_ON_A_TODO_RES = patterns(
    # the todo named first: "for the cake one, add a note: order number 4471"
    r"^(?:for|on|to)\s+(?P<ref>[^,:]+?)\s*,?\s+(?:add|attach|put|write|leave)\s+(?:a\s+|an\s+|the\s+|some\s+)?"
    r"(?:note|notes|description|comment|details?)\s*(?:(?:saying|that says|that|-)\s*:?|:)\s*(?P<note>.+)$",
    # a quoted note put on "the X one": "put 'ring after 5' on the GP one" (not "on the list")
    rf"^(?:put|write|add|stick|pop)\s+(?P<note>\"[^\"]+\"|'[^']+')\s+(?:on|to|against)\s+{_TODO_ONE}$",
    # a note written on "the X one": "jot down on the landlord one: ask about the damp"
    rf"^(?:jot|write|note|put|add)(?: down)?\s+(?:on|to|against)\s+{_TODO_ONE}\s*:\s*(?P<note>.+)$",
)
"""A note for a todo said another way round than "add a note to X: ..."."""


_CLEAR_NOTE_RE = re.compile(
    r"^(?:clear|remove|delete|erase|drop|wipe|scrap|get rid of|take off|take out)\s+(?:the\s+|its\s+|any\s+)?"
    r"(?:description|desc|notes?|details?|comments?)\s+(?:on|from|of|for|in|off)\s+(?P<ref>.+)$"
    r"|^(?:clear|remove|delete|erase|wipe)\s+(?P<owner>.+?)(?:'s|s')\s+(?:description|notes?|details?)$",
    re.I,
)
"""A todo's notes taken away, the todo kept: "clear the description on book dentist"."""


def parse_describe(text: str) -> ChangeIntent | None:
    """ "add a note to X: ...", "set the description of X to ...": edit an existing todo's notes; "remove
    the note from X" clears them (the value ""), never the todo."""
    if cleared := _CLEAR_NOTE_RE.match(text):
        return ChangeIntent("describe", (Choice(clean_ref(cleared["ref"] or cleared["owner"]), ""),))
    if noted := next((match for pattern in _NOTE_ON_A_TODO_RES if (match := pattern.match(text))), None):
        text = f"add a note to {noted['ref']}: {noted['note'].strip(chr(34) + chr(39))}"
    for pattern, separator in _DESCRIBE_RES:
        if (match := pattern.match(text)) and (choices := cut_choices(match["body"], separator)):
            return ChangeIntent("describe", choices)
    return None
