"""Reading changes to todos picked by reference: complete, reopen, delete, rename, due date, notes,
status questions and fixes phrased as corrections (deeds told as done: `deeds`) - one table of
patterns per change."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from service.agent.offline.adds import clean_title
from service.agent.offline.chatter import PRONOUN_RE
from service.agent.offline.dates import SAME_DAY_AS, date_value, find_date, find_shift
from service.agent.offline.intents import Action, ChangeIntent, Choice, ListIntent, ReplyIntent
from service.agent.offline.queries import DONE_WORDS, GENERIC_WORDS
from service.agent.offline.text import alternation, strip_all
from service.agent.offline.vocabulary import (
    DONE_RE,
    OPEN_RE,
    TABLES,
    patterns,
    starts_command,
    verbs,
)
from service.matching import words

_REF_WRAPPER_RE = re.compile(
    r"\s+(?:from|off|on|in) (?:my|the) (?:\w+ )?(?:list|todos?|to-?dos?|tasks?)\b|^(?:the )?(?:todo|task|item)"
    r"(?: called| named| titled| of| for| about)?\s+"
    r"|,?(?<!\bdue)(?<!\bfrom)\s+(?:please|for me|again|too|as well|already|yesterday|today"
    r"|this morning|last night|earlier|just now|finally|at last|(?:over|at) the weekend|last week)$|'s (?:name|title)$"
    # a remark a pronoun points back to: "I totally forgot to pay the rent, mark it done" means "pay the rent"
    r"|^(?:(?:i|we)\s+)?(?:(?:totally|completely|clean|just)\s+)?forgot\s+(?:to\s+|about\s+)(?=\S)",
    re.I,
)
_DEEDS = alternation(TABLES["complete"]["deeds"])
_STATE_RES: dict[Action, tuple[re.Pattern[str], ...]] = {}
"""Each change of state with its table: reopening first, since "mark X as not done" also says done."""
_STATE_RES["reopen"] = patterns(
    rf"^(?:neither|none) of (?P<ref>them|those|these)(?: two)? (?:is|are|was|were|has been|have been)"
    rf"(?: actually| really)? (?:{_DEEDS})(?: yet| after all| actually| really)*$",
    rf"^(?:{verbs('reopen')})\s+(?P<ref>.+?)(?:\s+as\s+(?:{DONE_RE}))?$",
    rf"^(?:{verbs('mark')})\s+(?P<ref>.+?)\s+(?:as |to |back to |back as |back )?(?:{OPEN_RE})(?: again)?$",
    r"^(?P<ref>.+?)\s+(?:is|are|was|were|has|have)(?: actually| really)? not (?:actually |really |been |yet )*"
    rf"(?:{_DEEDS})(?: yet| after all| actually| really)*$",
    r"^(?P<ref>.+?)\s+(?:still )?needs? (?:doing|to be done)$",
    r"^i (?:did|have|had) not (?:actually |really |yet )?(?:finished |completed |done |finish |complete |do )?"
    r"(?P<ref>.+?)(?: yet| after all| actually| really)*$",
    r"^(?:put|bring)\s+(?P<ref>.+?)\s+back(?: on (?:my|the) list)?$",
)
_STATE_RES["complete"] = patterns(
    rf"^(?:{verbs('mark')})\s+(?P<ref>.+?)\s+(?:as |to |to be )?(?:{DONE_RE})$",
    r"^(?:tick|check|cross|strike|knock|scratch|mark)\s+(?P<ref>.+?)\s+(?:off|out)(?: (?:my|the) list)?$",
    rf"^(?:{verbs('complete')}|did|done)(?:\s*[:-]\s*|\s+)(?P<ref>.+?)$",
    r"^(?:i|we)(?: have| am| are)? (?:just |already |finally |now |totally |actually )*(?:done with"
    r"|finished with|through with|completed|finished|done|did|ticked off|checked off|crossed off)\s+(?P<ref>.+)$",
    # a statement, not a command naming a deed: "delete get the car washed" deletes it
    rf"^(?!(?:{verbs('delete', 'reopen')})\s)(?P<ref>.+?)(?:'s\s+|\s+(?:is|are|was|has been|have been|got)?\s*)"
    rf"(?:now |all |both |finally |already |been )*(?:{_DEEDS})(?: too| as well)?$",
)
_STATE_RES["delete"] = patterns(
    rf"^(?:{verbs('delete')})\s+(?P<ref>.+?)$",
    r"^tak(?:e|ing)\s+(?P<ref>.+?)\s+off(?: (?:my|the) (?:\w+ )?(?:list|todos?))?"
    r"(?: altogether| completely| for good)?$",
    r"^(?:forget|never ?mind)(?: about)?\s+(?P<ref>.+)$",
    # not "no need to change anything": a todo is named, never "anything"
    r"^(?:(?:i|we) )?(?:do not|no longer) need (?!(?:to )?\w+ (?:anything|everything|nothing)\b)(?:to )?(?P<ref>.+?)"
    r"(?: anymore| any more| after all)?$",
    r"^no (?:need|longer need) (?!(?:to |for )?\w+ (?:anything|everything|nothing)\b)(?:to |for )?(?P<ref>.+?)"
    r"(?: anymore| any more)?$",
    r"^(?P<ref>.+?)\s+(?:can go|is not needed|is no longer needed|is cancelled|is canceled|got cancell?ed"
    r"|is not happening)(?: anymore| any more)?$",
)


def clean_ref(text: str) -> str:
    """The user's words for a todo, minus list wrappers: "the milk from my list" -> "the milk"; "the X one"
    ends the reference, so a remark run on after it is no part of it ("the cake one nan is doing it")."""
    text = _ONE_THEN_REMARK_RE.sub(r"\g<ref>", text)
    return strip_all(_REF_WRAPPER_RE, text.strip(" \"'-:,;."), " -:,;.").strip("\"'")


_ONE_THEN_REMARK_RE = re.compile(
    r"^(?P<ref>(?:the|that|my) (?!one\b)[\w'-]+(?: [\w'-]+){0,3}? one)\s+"
    r"(?!(?:on|in|from|that|which|who|i|you|we|with|for|about|at|of|there|to|by|and|or|as|done|finished)\b)\S.*$",
    re.I,
)


_SUBJECTS = {"i", "we", "you", "me"}  # "I finished" names no todo


_BIN_THINGS_RE = re.compile(r"^bin\s+(?!(?:the|that|this|it|my|those|these|them|all|every)\b)\w+s\b", re.I)
"""A thing, not a delete: "bin bags", "bin liners" (a delete says which: "bin the bags", "bin it")."""
_ONTO_LIST_RE = re.compile(r"\b(?:to|onto|into) (?:my|the|our) (?:\w+ )?list$", re.I)
"""Where an add puts things: "bin bags to the list" is no delete."""


def parse_state_change(text: str) -> ChangeIntent | None:
    """ "reopen X", "X is done", "get rid of X"; "I ticked off X by mistake" asks for X back open."""
    if (slip := BY_MISTAKE_RE.search(text)) and (done := parse_state_change(text[: slip.start()].strip())):
        flipped = {"complete": "reopen", "reopen": "complete"}.get(done.action)
        return ChangeIntent(flipped, done.choices) if flipped else None  # type: ignore[arg-type]
    text = re.sub(r"\s+instead$", "", text, flags=re.I)  # "just mark them both done instead"
    for action, table in _STATE_RES.items():
        for pattern in table:
            if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])) and ref.lower() not in _SUBJECTS:
                if action == "delete" and (_ONTO_LIST_RE.search(ref) or _BIN_THINGS_RE.match(text)):
                    return None  # where an add puts things ("... to the list"), or a thing ("bin bags")
                return ChangeIntent(action, (Choice(ref),))
    if said := _DONE_THEN_REMARK_RE.match(text):  # "slides are DONE lowkey proud of myself"
        return parse_state_change(said["said"])
    return None


_DONE_THEN_REMARK_RE = re.compile(
    rf"^(?P<said>.+?(?:\s(?:is|are|was|were)|'s)\s+(?:all\s+|finally\s+|now\s+)*(?:{DONE_RE}))\s+"
    rf"(?:{alternation(TABLES['complete']['cheers'])})\b.*$",
    re.I,
)
"""A done state, then a cheer with no stop between them ("slides are DONE lowkey proud of myself"); not
"dinner is done in 5 minutes" or "the kids are done eating", which tell of something else."""


def separated(*table: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """A table of (pattern, separator): the pattern finds the request's body, the separator cuts it
    into the todo meant and the new value."""
    return tuple((re.compile(pattern, re.I), separator) for pattern, separator in table)


def cut_choices(body: str, separator: str) -> tuple[Choice, ...]:
    """Every way to cut `body` at `separator` into (todo reference, new value): either side may
    contain the separator word ("rename go to gym to go swimming")."""
    choices = []
    for cut in re.finditer(separator, body, re.I):
        if body[: cut.start()].count('"') % 2:
            continue  # inside a quoted title
        value = body[cut.end() :].strip()
        if (said := _WHOLE_QUOTE_RE.match(value)) and _WHY_RE.match(value[said.end() :]):
            value = said[0]  # "change X to 'call plumber about the boiler' so i remember what it was for"
        ref, value = clean_ref(body[: cut.start()]), value.strip("\"'")
        if ref and value:
            choices.append(Choice(ref, value))
    return tuple(choices)


_DUE_VERB_RE = re.compile(
    rf"^(?:{verbs('due')}|(?:set|change|update|make|put|give|add)\s+(?:a\s+|the\s+)?(?:due date|deadline|date)"
    r"\s+(?P<prep>of|for|on|to))\s+(?P<body>.+)$",
    re.I,
)
_DUE_STATEMENT_RES = patterns(
    r"^(?:set|make|mark|have)\s+(?P<ref>.+?)\s+(?:to be\s+)?due\s+(?P<date>.+)$",
    r'^make\s+(?P<ref>"[^"]+")\s+(?P<date>.+)$',  # "make it thursday" once "it" is spelt out as the title
    r"^(?:bring|pull|move)\s+(?P<ref>.+?)\s+forward\s+(?P<date>(?:to|till|until|for)\s+.+)$",
    r"^(?:put|set)\s+(?P<ref>(?:them|those|these)(?: all| both)?|it|both)\s+(?:down\s+)?(?P<date>(?:for|on|to)\s+.+)$",
    r"^(?:set|reschedule)\s+(?P<ref>.+?)\s+(?P<date>(?:for|on)\s+.+)$",
    r"^(?P<ref>.+?)\s+can (?:wait|slip|slide|be done|be moved|move)\s+(?P<date>(?:till|until|to|for)\s+.+)$",
    r"^(?P<ref>.+?)\s+(?:can|could|will|is going to|has to|must)\s+(?:now\s+)?be\s+(?:done\s+)?(?P<date>.+)$",
    r"^(?:can|could)\s+(?P<ref>.+?)\s+be\s+(?:moved\s+to\s+|changed\s+to\s+|done\s+|due\s+)?(?P<date>.+?)(?:\s+instead)?$",
    # "they've moved my GP appointment to Monday", "acme moved the kickoff to tuesday next week"
    r"^(?:(?:they|we|she|he|i|you|(?:the |my |our )?[\w'-]+)(?:\s+have|'ve|\s+had|\s+has)?\s+)?"
    r"(?:moved|rescheduled|pushed(?: back)?|put back|changed"
    r"|brought forward|rebooked)\s+(?P<ref>.+?)\s+(?P<date>(?:to|till|until|for)\s+.+)$",
    r"^(?:change|set|update)\s+(?P<ref>.+?)(?:'s)?\s+(?:due date|deadline)\s+(?:to|for|as)\s+(?P<date>.+)$",
    r"^(?:set|put|give|add)\s+(?:a\s+|the\s+)?(?:due date|deadline)\s+(?:of\s+|on\s+)?(?P<date>.+?)\s+"
    r"(?:for|on|to)\s+(?P<ref>.+)$",
    r"^(?:give|set)\s+(?P<ref>.+?)\s+(?:a\s+|the\s+)?(?:due date|deadline)\s+(?:of\s+|on\s+|for\s+)?(?P<date>.+)$",
    r"^(?P<ref>.+?)(?:'s|\s+(?:is|are|should be|will be|needs to be done|has to be done))\s+(?:now\s+|actually\s+)?"
    r"(?:done\s+)?"
    r"(?:due\s+)?(?P<date>(?:by|on|before)\s+.+|due\s+.+)$",
    # "passport renewal needs doing by 15 December", "the parcel must go by Monday"
    r"^(?P<ref>.+?)\s+(?:needs|need|has|have|must|should)\s+(?:to\s+)?(?:be\s+)?(?:done|finished|sorted|sent|handed in"
    r"|posted|paid|booked|in|out|back|filed|submitted|[a-z]+ing(?: in| off| up| out)?)"
    r"\s+(?P<date>(?:by|on|before|for)\s+.+?)"
    r"(?:\s+(?:now|then|latest|at the latest))?$",
    # "it has to go out by thursday" (by: a deadline; "Sam has to go on friday" tells of Sam)
    r"^(?P<ref>.+?)\s+(?:needs|need|has|have|must)\s+to\s+go(?: out| off| in)?\s+(?P<date>(?:by|before)\s+.+?)$",
    # "the essay deadline got pushed to monday", "the slides are not needed till thursday next week now"
    r"^(?P<ref>.+?)(?:'s)?(?:\s+(?:deadline|due date))?\s+(?:got|has been|have been|was|were|is|are|is being)\s+"
    r"(?:now\s+)?"
    r"(?:pushed|moved|bumped|postponed|put off|brought forward|pulled forward|changed|rescheduled|extended)"
    r"(?:\s+(?:back|forward|out|up))?\s+(?P<date>(?:to|till|until|for)\s+.+?)(?:\s+(?:now|then|instead))?$",
    # "the tax return deadline is 31st January"
    r"^(?P<ref>.+?)(?:'s)?\s+(?:deadline|due date)\s+is\s+(?P<date>.+?)(?:\s+now)?$",
    r"^(?P<ref>.+?)\s+(?:is|are) not\s+(?:needed|due|wanted)\s+(?:now\s+)?(?P<date>(?:till|until|before)\s+.+?)"
    r"(?:\s+(?:now|then|anymore|any more))?$",
)
_SHIFT_VERB_RE = re.compile(rf"^(?:{verbs('due')}|bring|pull|extend)\s+(?P<body>.+)$", re.I)
"""Moving a due date by an amount: the due verbs, and those only an amount makes one ("bring X forward a day")."""
_MOVED_RE = re.compile(
    r"^(?P<ref>.+?)\s+(?:got|has been|have been|was|were|is|are|is being)\s+(?:now\s+)?"
    r"(?:pushed|moved|bumped|postponed|put off|brought|pulled)(?P<rest>(?:\s+\S+)+)$",
    re.I,
)
_FROM_ITS_DATE_RE = re.compile(  # "its" may have been read as "it is" (`expand`)
    r"\s+from (?:its|it is|the|their) (?:current |original |old )?(?:due date|deadline|date)$", re.I
)
_UNDATE_RES = patterns(*TABLES["due"]["clear"])
UNDATED = "none"
"""The due date that removes one: update_todo reads it so (one of `tools.NO_DUE_DATE_WORDS`)."""
_INSTEAD_RE = re.compile(r"(?:\s+(?:instead|then|please|pls|too))+$", re.I)
_REF_TAIL_RE = re.compile(r"(?:\s+(?:to|until|till|for|by|on|due|is|as|back))+$", re.I)


_SAME_DAY_RES = patterns(
    r"^(?:make|put|move|set|have|schedule|change|switch|shift|book)\s+(?P<ref>.+?)\s+(?:for |on |to |be |due )?"
    r"(?:the )?same (?:day|date) as\s+(?P<other>.+)$",
    r"^(?P<ref>.+?)\s+(?:should|can|could|needs to|has to|must|will)\s+be\s+(?:due |on )?(?:the )?same (?:day|date) as"
    r"\s+(?P<other>.+)$",
)
"""A due date taken from another todo: "make the dentist the same day as the haircut" (`SAME_DAY_AS`)."""


_UNDATE_IT_RE = re.compile(
    r"^(?:remove|clear|delete|drop|erase|unset|scrap|lose|take off|take away|get rid of|forget)\s+"
    r"(?:the |its |that |this )?(?:due date|due-date|deadline|date)(?: (?:off|on it|from it|for it))?$",
    re.I,
)


def parse_due(text: str, today: date | None) -> ChangeIntent | ReplyIntent | None:
    """ "move X to Friday", "push X back to next week", "X is due tomorrow", "remove the deadline on X"."""
    if _UNDATE_IT_RE.match(text):  # "remove the date": of the todo talked about, never a todo called "the date"
        return ChangeIntent("due", (Choice("it", UNDATED),))
    for pattern in _UNDATE_RES:
        if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])):
            # "remove its deadline": `expand` has read "its" as "it is"
            return ChangeIntent("due", (Choice("it" if ref.lower() in ("its", "it is") else ref, UNDATED),))
    for pattern in _SAME_DAY_RES:
        if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])) and (other := clean_ref(match["other"])):
            return ChangeIntent("due", (Choice(ref, f"{SAME_DAY_AS}{other}"),))
    text = _FROM_ITS_DATE_RE.sub("", text)  # "pushed back a week from its current date"
    if (moved := _MOVED_RE.match(text)) and (shift := find_shift(moved["rest"])) and shift[0] == 0:
        return ChangeIntent("due", (Choice(clean_ref(moved["ref"]), shift[1]),))  # "the clinic got pushed back a week"
    if (match := _SHIFT_VERB_RE.match(text)) and (shift := find_shift(match["body"])):
        start, value = shift
        ref = clean_ref(_REF_TAIL_RE.sub("", match["body"][:start]))
        return ChangeIntent("due", (Choice(ref, value),)) if ref else None
    for pattern in _DUE_STATEMENT_RES:
        if (match := pattern.match(text)) and (day := date_value(match["date"], today)):
            return ChangeIntent("due", (Choice(_date_owner(clean_ref(match["ref"])), day.isoformat()),))
    if not (match := _DUE_VERB_RE.match(text)):
        return None
    body = _INSTEAD_RE.sub("", match["body"])  # "move it to Friday instead"
    if match["prep"] == "to":  # "change the date to 3/12": the date of the todo talked about
        body = f"it to {body}"
    found = find_date(body, today, after_to=True)
    while found is not None and found.end < len(body.rstrip(" .!?")) and (later := find_date(body[found.end :], today)):
        found = replace(
            later, start=later.start + found.end, end=later.end + found.end
        )  # "everything due tomorrow to thursday"
    if found is None or found.end != len(body.rstrip(" .!?")):
        return ReplyIntent("need_date") if re.search(r"\s(?:to|until|till)\s", body, re.I) else None
    ref = clean_ref(_REF_TAIL_RE.sub("", body[: found.start].strip()))
    return ChangeIntent("due", (Choice(_date_owner(ref), found.day.isoformat()),)) if ref else None


_THE_DATE_RE = re.compile(r"^(?:(?:the|its|it is|that|this)\s+(?:due\s+)?(?:date|deadline|day)|the|its|it is)$", re.I)


def _date_owner(ref: str) -> str:
    """ "change the date to the 3rd": the date of the todo talked about, "it"."""
    return "it" if _THE_DATE_RE.match(ref) else ref


_SAYS_SEPARATOR = r"\s+so (?:that )?it (?:says|reads)\s+"
"""Between the todo and its new wording: "change X so it says Y"."""
_RENAME_RES = separated(
    (rf"^(?:{verbs('rename')})\s+(?P<body>.+)$", rf"\s+(?:to|as|into)\s+|\s*[-=]>\s*|{_SAYS_SEPARATOR}"),
    (
        r"^(?:change|update|edit|modify|set|fix|correct)\s+(?:the\s+)?(?:name|title|wording|text)\s+"
        r"(?:of|for|on)\s+(?P<body>.+)$",
        r"\s+(?:to|as|into)\s+",
    ),
    (  # "call it pay december rent", not "call it a day"
        r"^(?:call|name|title)\s+(?P<body>(?:it|\"[^\"]+\")\s+"
        r"(?!(?:a day|a night|quits|even|off|after|back|up|in|out|over|on)\b).+?)(?:\s+instead)?$",
        r"(?<=^it)\s+|(?<=\")\s+",
    ),
    (r"^(?:call|name|title)\s+(?P<body>.+?)\s+instead$", r"\s+"),
    (r"^(?P<body>.+?\s+should (?:be called|be named|say|read)\s+.+)$", r"\s+should (?:be called|be named|say|read)\s+"),
)
_CHANGE_RE = re.compile(
    r"^(?:change|update|edit|modify|alter|amend|fix|correct|reword|replace|switch)\s+(?P<body>.+)$", re.I
)
_MAKE_THAT_RE = re.compile(
    r"^make (?P<ref>that|it|this)(?: one)? (?:say |read |into )?(?P<value>(?!(?:one )?due\b).+)$", re.I
)
"""A correction of what was just said or added: "make that a dozen eggs", "make it Friday"."""
_RECKONED_RE = re.compile(r"^[^\"']*\b(?:(?:days?|weeks?|months?) (?:from|after|before)|date|deadline)\b", re.I)
"""A new value reckoned from a date ("three days from the original date, not two"): no new title."""
_STATE_OR_WORD_RE = re.compile(rf"(?:{DONE_RE}|{OPEN_RE}|a \w+|\w+)", re.I)
_ANOTHER_TODO_RE = re.compile(r"^(?:it was |i meant |but )?(?:the |that )(?:other|\w+(?: \w+)?) one\b", re.I)
ORDINAL_DAY_RE = re.compile(r"the \d{1,2}(?:st|nd|rd|th)", re.I)
"""After "make it": a day of the month ("make that one the 4th"), not a position."""
ASKING_RE = re.compile(
    r"(?:what|which|who|when|where|how|why|is|are|do|does|did|should|shall|can|have|has|any|anything)\b", re.I
)
"""The first word of a question ("what's the next thing I should be doing" corrects nothing)."""
NOT_THIS_BUT_RE = re.compile(
    r"^not (?:the )?(?P<old>[^,;-]+?)\s*[,;-]+\s*(?:but |it was |it is |it's |i meant )?(?P<new>.+?)"
    r"(?:\s+(?:i|we) (?:did|done|meant|paid|finished)|\s+(?:i|we)(?:'ve| have) done)?$",
    re.I,
)
"""Which todo was meant, not the old one: "not the session, the other one", "not the laundry - it was the
dishes I did" (`new` without the "I did")."""
_NO_LONGER_RE = re.compile(rf"\b(?:{'|'.join(TABLES['remarks']['no_longer'])})\b", re.I)
_DUE_LEAD_RE = re.compile(r"^(?:be\s+)?(?:due|done|happening)?\s*(?=\S)", re.I)
_AGAIN_RE = re.compile(r"^(?:(?:again|back|as|to|be)\s+)+|\s+(?:again|now)$", re.I)
_CHANGE_SEPARATOR = rf"\s+to (?:say|read)\s+|{_SAYS_SEPARATOR}|\s+(?:to|into|with)\s+|\s*->\s*"


def parse_rename(text: str, today: date | None) -> ChangeIntent | None:
    """ "rename X to Y", "call X Y instead", and the open-ended "change X to Y", where the new value
    decides the kind of change: "change X to Friday" moves the due date, "change X to done" completes it."""
    for pattern, separator in _RENAME_RES:
        if (match := pattern.match(text)) and (choices := cut_choices(match["body"], separator)):
            said = choices[-1].value or ""
            if PRONOUN_RE.match(choices[-1].ref) and (date_value(said, today) or _STATE_OR_WORD_RE.fullmatch(said)):
                return None  # "call it done", "call it tomorrow", "call it quick": no new title
            # "that should say Sara" corrects what was just added: its verb stays
            return _renamed(tuple(replace(choice, correction=bool(PRONOUN_RE.match(choice.ref))) for choice in choices))
    if (made := _MAKE_THAT_RE.match(text)) and _RECKONED_RE.match(made["value"]):
        return None
    if made:
        choices = (Choice(made["ref"], made["value"], correction=True),)
    elif not (match := _CHANGE_RE.match(text)) or not (choices := cut_choices(match["body"], _CHANGE_SEPARATOR)):
        return None
    last = choices[-1]  # the shortest value: "friday" in "change go to gym to friday"
    said = _INSTEAD_RE.sub("", _DUE_LEAD_RE.sub("", last.value or ""))  # "... to be due December the third"
    if day := date_value(said, today) or (made and ORDINAL_DAY_RE.fullmatch(said) and date_value(f"on {said}", today)):
        return ChangeIntent("due", (replace(last, ref=_date_owner(last.ref), value=day.isoformat()),))
    if (shift := find_shift(f" {last.value}")) and shift[0] == 0:  # "make it a day earlier"
        return ChangeIntent("due", (replace(last, value=shift[1]),))
    state = _AGAIN_RE.sub("", last.value or "")  # "make it again not finished": its state, not a new title
    if re.fullmatch(DONE_RE, state, re.I):
        return ChangeIntent("complete", (Choice(last.ref),))
    if re.fullmatch(OPEN_RE, state, re.I):
        return ChangeIntent("reopen", (Choice(last.ref),))
    if not made:  # "change 4 to 6": only the words named change, whether a whole title or a part of it
        choices = tuple(c if _whole_title(c) else replace(c, correction=True, replaces=c.ref) for c in choices)
    return _renamed(choices)


def _whole_title(choice: Choice) -> bool:
    """ "change the cake one to bake cupcakes for the fete": a reference given a title of its own (4+ words, no not)."""
    said = f" {choice.value} "
    return (
        bool(re.search(r"\b(?:one|todo|task|item)$", choice.ref, re.I))
        and len(said.split()) >= 4
        and " not " not in said
    )


_NOT_OLD = r"(?:\s*,\s*|\s+-\s+|\s+)(?:and )?not (?:the )?(?P<old>[^,]+?)"
_CORRECTION_RES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        rf"^(?:i )?(?:meant|mean|said|typed|wrote)(?: to (?:say|write|type))?\s*:?\s+(?P<new>.+?)(?:{_NOT_OLD})?$",
        rf"^(?:(?:it|that|this) )?(?:should|was meant to|is meant to|was supposed to) (?:have been|be|say|read)\s+"
        rf"(?P<new>.+?)(?:{_NOT_OLD})?$",
        r"^(?:it is |it was )?not (?:the )?(?P<old>.+?)\s*[,;-]\s*"
        r"(?:but |i meant |it is |it's |is |it should be |should be )?(?P<new>.+)$",
        rf"^(?:it is |it's |it was |i meant |i said )?(?:spelt |spelled |written |typed )?(?P<new>[^,]+?){_NOT_OLD}$",
        r"^(?:make (?:it|that) |change (?:it|that) to |no,? )?(?P<new>.+?) instead$",
        r"^(?:wrong (?:day|date|one|word|name|title)\b[,.;:!-]*\s*)?(?:it is|it's|it should be|should be) (?P<new>.+)$",
        r"^(?P<old>.+?) should (?:be|have been|say|read) (?P<new>.+)$",
        r"^(?:replace|swap|switch) (?:the )?(?P<old>.+?) (?:with|for) (?P<new>.+)$",
        r"^(?P<new>.+?) instead of (?:the )?(?P<old>.+)$",
        r"^(?:correction|typo|spelling)\s*:\s*(?:(?P<old>.+?)\s*(?:->|=>|to|should be)\s*)?(?P<new>.+)$",
    )
)
"""A fix phrased as a correction: "I meant oat milk", "not bread, rolls", "dentsit should be dentist".
Without the old words it corrects what was just added or changed ("that")."""


_TELLS_RE = re.compile(rf"^(?:{alternation(TABLES['remarks']['states'])})\b", re.I)
_FIX_LEAD_RE = re.compile(r"^(?:fix|correct) (?:the |a |my )?(?:spelling|typo|title|wording)s?\s*[:,;-]?\s*", re.I)


_SWAP_RE = re.compile(r"^[\"']?(?P<new>[^,\"']+?)[\"']?\s*,?\s+(?:and\s+)?not\s+[\"']?(?P<old>[^,\"']+?)[\"']?$", re.I)
_SWAP_MAX_WORDS = 3
_ASIDE_WORDS_RE = re.compile(r"^(?:actually|really)\s+|\s+(?:actually|really|then)$", re.I)


def _word_swapped(choice: Choice) -> Choice:
    """ "make it 'call' not 'email'": a word of the title swapped for another, not a new title."""
    swap = _SWAP_RE.match(choice.value or "") if PRONOUN_RE.match(choice.ref) else None
    if swap is None or any(len(swap[part].split()) > _SWAP_MAX_WORDS for part in ("new", "old")):
        return choice
    return replace(choice, value=swap["new"].strip(), correction=True, replaces=swap["old"].strip())


def _without_preposition(new: str, old: str) -> str:
    """ "it's for tim actually, not tom": "tim" takes the place of "tom", the "for" is already there."""
    new = strip_all(_ASIDE_WORDS_RE, new)
    lead = re.match(r"(?:for|to|with|about|at|from|on|in)\s+", new, re.I)
    return new[lead.end() :] if lead and old and not old.lower().startswith(lead[0].lower()) else new


_PEOPLE = {"i", "we", "you", "he", "she", "they"}
_ON_THE_ONE_RE = re.compile(r"\s+(?:on|in|for)\s+(?P<ref>(?:the|my)\s+.+?\s+(?:one|todo|task|item))$", re.I)


def parse_correction(text: str, today: date | None) -> ChangeIntent | None:
    text = _FIX_LEAD_RE.sub("", text)  # "fix the spelling: tomatos should be tomatoes"
    for pattern in _CORRECTION_RES:
        if not (match := pattern.match(text)):
            continue
        old, new = (match.groupdict().get("old") or "").strip(" \"'"), match["new"].strip(" \"'.!")
        if ASKING_RE.match(old) or _NO_LONGER_RE.search(old) or old.lower() in _PEOPLE:  # "I should be there"
            return None  # "what's the next thing I should be doing", "..., not our problem anymore": no fix
        if old and _ANOTHER_TODO_RE.match(new):
            return None  # "not the session, the other one": which todo was meant, no new wording
        new = _without_preposition(new, old)
        if re.match(r"to\s", new, re.I):
            return None  # "I meant to pay the rent this morning but forgot": what was meant to be done, no fix
        if set(words(new)) & {"i", "we", "you"}:
            return None  # "it's the braces people I need": a sentence about the todo, not its new wording
        if starts_command(new) or re.match(rf"(?:{DONE_RE}|{OPEN_RE}|make|set|move|push)\b", new, re.I):
            return None  # "mark milk done, not eggs", "the report should be done": no new wording
        if _TELLS_RE.match(new) or re.search(r"\b(?:again|here|me)$", new, re.I):
            return None  # "it's been one of those weeks", "it's Margaret again": how things are, who writes
        if _THE_DATE_RE.match(old) and (day := date_value(new, today) or date_value(f"on {new}", today)):
            return ChangeIntent("due", (Choice("that", day.isoformat()),))  # "not that date, the 5th"
        if day := date_value(new, today):  # "no, I meant Thursday": the due date
            return ChangeIntent("due", (Choice("that" if not old or date_value(old, today) else old, day.isoformat()),))
        if (found := find_date(new, today)) and (rest := clean_ref(f"{new[: found.start]} {new[found.end :]}")):
            return ChangeIntent("due", (Choice(rest, found.day.isoformat()),))  # "I meant call the vet on Friday"
        if new and not found:
            if old and (on := _ON_THE_ONE_RE.search(new)):  # "swap Jo for Kate on the kids one"
                return ChangeIntent("rename", (Choice(on["ref"], new[: on.start()], correction=True, replaces=old),))
            return ChangeIntent("rename", (Choice(old or "that", new, correction=True, replaces=old or None),))
    return None


_EXACTLY_RE = re.compile(r"^(?:(?:exactly|precisely|simply|just)\s+)?(?:this|the following|as follows)\s*:\s*", re.I)
_WHOLE_QUOTE_RE = re.compile(r"\"(?P<double>[^\"]+)\"|'(?P<single>[^']+)'")
_WHY_RE = re.compile(r"[\s,;-]+(?:so|because|cos|coz|since|as|for)\s", re.I)


def _as_said(choice: Choice) -> Choice:
    """The new title as given: without "exactly this:" before it, and a quoted one whole, never spliced into
    the old title ('no wait, make it "Call mum about Christmas lunch"')."""
    value = _EXACTLY_RE.sub("", (choice.value or "").strip())
    quoted = _WHOLE_QUOTE_RE.fullmatch(value)
    if quoted and len((title := quoted["double"] or quoted["single"]).split()) > 1:  # one word may swap one
        return replace(choice, value=title, correction=False, replaces=None)
    return replace(choice, value=value)


def _renamed(choices: tuple[Choice, ...]) -> ChangeIntent | None:
    # A correction keeps the user's spelling: it is fitted into the title when the todo is known.
    choices = tuple(_word_swapped(_as_said(choice)) for choice in choices)
    titled = tuple(
        replace(choice, value=(choice.value or "").strip() if choice.correction else clean_title(choice.value or ""))
        for choice in choices
    )
    kept = tuple(choice for choice in titled if choice.value)
    return ChangeIntent("rename", kept) if kept else None


_STATUS_RES, _ASKED_RES = (patterns(*TABLES["status"][kind]) for kind in ("patterns", "asked"))


def parse_status(text: str) -> ChangeIntent | ListIntent | None:
    """ "is the milk done?", "did I call mom?", "when is the report due?"."""
    for pattern in _STATUS_RES:
        if (match := pattern.match(text)) and (ref := clean_ref(match["ref"])):
            if re.match(r"(?:there|anything|something|any)\b", ref, re.I):
                return None  # "is there anything car related on my list?" asks for todos, not about one
            if PRONOUN_RE.fullmatch(ref):
                return ChangeIntent("status", (Choice(ref),))  # "what does the note on that say?": the one just shown
            if set(words(ref)) <= GENERIC_WORDS | DONE_WORDS | {"anything", "finish", "do", "them"}:
                return ListIntent(completed=False)  # "did I finish everything?"
            return ChangeIntent("status", (Choice(ref),))
    return None


def parse_asked(text: str) -> ChangeIntent | ListIntent | None:
    """ "the milk is done?" asks as "is the milk done?" does (the question mark is gone from `text`)."""
    match = next((found for pattern in _ASKED_RES if (found := pattern.match(text))), None)
    return parse_status(f"is {match['ref']} done") if match else None


BY_MISTAKE_RE = re.compile(r"\b(?:by mistake|by accident|accidentally|mistakenly|wrongly|in error)\b", re.I)
