"""Dates: today from the instructions (never the clock), and the date phrases people use in todos.

Which words of a message are a date is decided here (a weekday inside "Friday drinks" is a title);
what date a phrase means is `dateparser`'s work, pinned to the turn's today, except where people mean
something it reads otherwise ("next Friday" is in next week, "the 3rd" is the next 3rd, "the weekend").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import dateparser
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, rrule

from service.agent.offline.text import NUMBER_WORDS, alternation
from service.agent.offline.vocabulary import TABLES, vocab

_DATE_LINE_RE = re.compile(r"Current date:\s*(\d{4}-\d{2}-\d{2})")
_WEEKDAYS = {name: day for day, names in enumerate(TABLES["dates"]["weekdays"]) for name in names}
_COUNTS = {"a": 1, "an": 1, **NUMBER_WORDS, "a couple of": 2, "a few": 3}
_MONTH_RE = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_WEEKDAY_RE = alternation(_WEEKDAYS)
_HOLIDAYS: dict[str, str] = TABLES["dates"]["holidays"]
_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
          "eighteenth", "nineteenth"]  # fmt: skip
_ORDINALS = {word: n for n, word in enumerate(_UNITS + _TEENS, 1)} | {"twentieth": 20, "thirtieth": 30}
_ORDINALS |= {f"{tens}{sep}{unit}": base + n for tens, base in (("twenty", 20), ("thirty", 30))
              for n, unit in enumerate(_UNITS, 1) for sep in (" ", "-") if base + n <= 31}  # fmt: skip
"""Days of the month in words ("the fifth of December"): only beside a month, where no position is meant."""
_DAY_OF_MONTH = rf"\d{{1,2}}(?:st|nd|rd|th)?|{alternation(_ORDINALS)}"
_COUNT_RE = alternation(_COUNTS)
_TOMORROW_SPELLINGS = r"tmrw|tmr|tomm?orr?o?w|2morr?ow?"
_TOMORROW_SPELLINGS_RE = re.compile(rf"\b(?:{_TOMORROW_SPELLINGS})\b", re.I)
_DATE_RE = re.compile(
    r"(?P<prep>\b(?:due (?:on |by )?|(?:on|by|for|before|until|till) |first thing (?:on )?))?"
    # "by COB Friday": the hour of a day named next, not today's close of business
    rf"(?:(?:eod|cob|close of business|end of (?:the )?day) (?:on )?(?=(?:this |next |coming )?(?:{_WEEKDAY_RE}"
    rf"|\d|{_MONTH_RE}|tomorrow|{_TOMORROW_SPELLINGS})\b))?"
    r"\b(?:(?P<iso>\d{4}-\d{2}-\d{2})"
    rf"|(?P<holiday>{alternation(_HOLIDAYS)})"
    r"|(?P<slash_day>\d{1,2})/(?P<slash_month>\d{1,2})(?:/(?P<slash_year>\d{4}|\d{2}))?"
    rf"|(?P<rel>(?:the )?day after tomorrow|tomorrow|{_TOMORROW_SPELLINGS}|today|tonight|later today"
    r"|this (?:morning|afternoon|evening)"
    r"|(?:the )?end of (?:the )?day|eod|close of business|cob)"
    r"(?: (?:morning|afternoon|evening|night))?"
    r"|(?P<weekend>(?:this |the )?weekend)"
    r"|(?P<nextweek>next week)"
    r"|(?P<endweek>(?:the )?end of (?:the |teh |this |(?P<endnext>next ))?(?:working |work |business )?week)"
    r"|(?P<nextmonth>next month)"
    r"|(?P<endmonth>(?:the )?end of (?:the |teh |this )?month)"
    rf"|in (?P<count>\d{{1,4}}|{_COUNT_RE}) (?P<unit>day|week|fortnight|month)s?(?:'s? time| time)?"
    rf"|(?P<count2>\d{{1,4}}|{_COUNT_RE}) (?P<unit2>day|week|fortnight|month)s?"
    r" (?:from (?P<from>now|today|tomorrow)|later|(?P<on>today|tomorrow))"  # "a fortnight today": in two weeks
    rf"|(?P<weekon>a week (?:on|from) )?(?P<mod>(?:this )?(?:next|coming) |this )?(?P<weekday>{_WEEKDAY_RE})"
    r"(?P<weekafter>,? (?:of )?next week)?"
    r"(?: (?:morning|afternoon|evening|night))?"
    rf"|(?:the )?(?P<day1>{_DAY_OF_MONTH})(?: of)? (?P<month1>{_MONTH_RE})(?:,? (?P<year1>\d{{4}}))?"
    rf"|(?P<month2>{_MONTH_RE}) (?:the )?(?P<day2>{_DAY_OF_MONTH})(?:,? (?P<year2>\d{{4}}))?"
    r"|(?:the )?(?P<day3>\d{1,2})(?:st|nd|rd|th)(?! (?:one|todo|task|item|entry|thing)s?\b)"
    r")\b",
    re.I,
)


ANY_DAY = date(2000, 1, 3)
"""For finding where a date phrase is, which does not depend on the day it names."""


@dataclass(frozen=True)
class DateMatch:
    day: date
    start: int
    end: int


def today_from(instructions: str | None, items: Sequence[Mapping[str, Any]] = ()) -> date | None:
    """Today, from the `Current date:` line of the turn (never the clock): the runtime sends it in a system
    message before the user's; instructions that carry one are read too."""
    notes = [str(i.get("content")) for i in items if i.get("role") == "system" and isinstance(i.get("content"), str)]
    for text in [*reversed(notes), instructions or ""]:
        if match := _DATE_LINE_RE.search(text):
            try:
                return date.fromisoformat(match.group(1))
            except ValueError:
                return None
    return None


_SELF_CORRECTION_RE = re.compile(
    r"[\s,.!-]+(?:(?:no|nope|sorry|wait|i mean|i meant|or rather|rather|make (?:it|that)|actually)[\s,.!-]+)+", re.I
)


def self_corrected(text: str, today: date | None) -> str:
    """A date taken back as it is said keeps the second: "move it to wednesday no sorry thursday" -> "move it
    to thursday" (dictated messages correct themselves in passing)."""
    for said in _SELF_CORRECTION_RE.finditer(text):
        before, after = text[: said.start()], text[said.end() :]
        first = find_date(before, today)
        meant = re.match(r"[^,.;!?]+", after)  # "friday, thursday I have work": the date up to the comma
        # "wednesday no sorry thursday", "friday, no wait, the 28th"
        dated = meant and (date_value(meant[0], today) or date_value(f"on {meant[0]}", today))
        if first and first.end == len(before) and meant and dated:
            lead = re.match(r"(?:on|by|to|for|until|till|before|from)\s+", before[first.start :], re.I)
            rest = after[meant.end() :]
            kept = rest if re.match(r"\W*(?:and|also|then|plus)\b", rest, re.I) else ""  # more asked, not why
            return f"{before[: first.start]}{lead[0] if lead else ''}{meant[0]}{kept}"
    return text


def find_date(text: str, today: date | None, *, after_to: bool = False) -> DateMatch | None:
    """The first phrase in `text` that is clearly a date; `after_to` (a move's new date): "to 3/12" is one too,
    which elsewhere is a fraction ("reduce the dose to 1/2").

    Weekdays, "1 December" and "the weekend" also occur inside titles ("Friday drinks"), so they
    count only after a preposition ("on Friday", "by 1 Dec"), with "this"/"next", or at the very end.
    """
    end_of_text = len(text.rstrip(" .!?"))
    for match in _DATE_RE.finditer(text):
        day = _date_of(match, today)
        if day is None:
            continue
        if match["weekday"] and _DAY_OF_MONTH_NEXT_RE.match(text, match.end()):
            continue  # "on Friday the 27th (of November)": the whole phrase is read from its day of the month
        # "Friday the 27th": the weekday before a day of the month belongs to it, and anchors it as "on" would
        named = _WEEKDAY_BEFORE_RE.search(text[: match.start()]) if match["day1"] or match["day3"] else None
        needs_anchor = match["weekday"] or match["day1"] or match["month2"] or match["weekend"]
        if needs_anchor and not (
            match["prep"] or match["mod"] or match["weekon"] or named or match.end() == end_of_text
        ):
            continue
        said_to = re.search(r"(?:^|\s)to\s+$", text[: match.start()])  # "move swimming to sat"
        if (match["weekday"] or "").lower() in _ONLY_ANCHORED and not (match["prep"] or match["mod"] or said_to):
            continue
        moved_to = after_to and match.end() == end_of_text and said_to
        if match["slash_day"] and not ((match["prep"] or moved_to) and not _names_a_thing(text[match.end() :])):
            continue  # "practice piano for 1/2 hour", "finish chapter 3/4": a fraction, not "on 3/12" or "to 3/12"
        if match["holiday"] and (match["prep"] or "for").strip().lower() == "for":
            continue  # "ring grandma about xmas", "buy presents for christmas": the subject; "by christmas eve" a date
        if match["weekday"] and _names_a_thing(text[match.end() :]):
            continue  # "book a table for Friday dinner": the day is part of the title
        if match["day3"] and not (match["prep"] or named or _ends_with_the_day(text, match, end_of_text)):
            continue  # "the 3rd" inside a sentence is more often a position than a date
        return DateMatch(day, named.start() if named else match.start(), match.end())
    return None


_DAY_OF_MONTH_NEXT_RE = re.compile(
    rf",?\s+(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)\b|(?:{_DAY_OF_MONTH})(?:\s+of)?\s+(?:{_MONTH_RE})\b)", re.I
)
_WEEKDAY_BEFORE_RE = re.compile(rf"(?:\b(?:on|by|for|before|until|till|due)\s+)?\b(?:{_WEEKDAY_RE}),?\s+$", re.I)
_AFTER_DATE_WORDS = vocab("dates", "after_date")
_ONLY_ANCHORED = vocab("dates", "weekdays_only_anchored")
"""Words that may follow a date phrase; any other word makes the weekday describe it ("Friday dinner")."""
_NEXT_WORD_RE = re.compile(r"^(?:'s\b|\s+(?P<word>[a-z]+)\b)", re.I)


def _names_a_thing(rest: str) -> bool:
    """The text after a weekday goes on to name something: a possessive ("Friday's") or a noun."""
    if (match := _NEXT_WORD_RE.match(rest)) is None:
        return False
    return match["word"] is None or match["word"].lower() not in _AFTER_DATE_WORDS


def _ends_with_the_day(text: str, match: re.Match[str], end_of_text: int) -> bool:
    """ "Move it to the 12th": a day of the month that ends the message after "to the"."""
    return match.end() == end_of_text and text[: match.start()].lower().endswith("to ") and "the" in match[0].lower()


@dataclass(frozen=True)
class DateWindow:
    """The days a question asks about ("anything due in December?"), and where it says so."""

    first: date | None  # None: from any date, overdue included ("anything due before Friday?")
    last: date
    label: str
    start: int
    end: int


_WINDOW_RE = re.compile(
    r"(?:\b(?:in|for|during|over|on|at|by|of)\s+)?\b(?:(?:the\s+)?rest of\s+)?(?:(?P<this>this|next) month"
    rf"|(?<=\s)(?P<month>{_MONTH_RE})(?!\s+\d)|(?P<which>this |the |next )?weekend)\b",
    re.I,
)
"""A month ("in december": a bare "may" is a verb, so a month needs a word before it), or the weekend."""


def find_window(text: str, today: date | None) -> DateWindow | None:
    """The span of days a question asks about: a month, the weekend (Saturday and Sunday), or one day."""
    if today is None:
        return None
    if not (match := _WINDOW_RE.search(text)) or (match["month"] and not match[0].lower().startswith(_PREPOSITIONS)):
        if (found := find_date(text, today)) is None:
            return None
        if _UP_TO_RE.match(text, found.start):  # "before the end of the month": every day up to it
            return DateWindow(None, found.day, f"by {describe_day(found.day.isoformat())}", found.start, found.end)
        return DateWindow(found.day, found.day, describe_day(found.day.isoformat()), found.start, found.end)
    if match["month"] or match["this"]:
        month = datetime.strptime(match["month"][:3], "%b").month if match["month"] else today.month
        first = date(today.year + (month < today.month), month, 1)
        if (match["this"] or "").lower() == "next":
            first += relativedelta(months=1)
        return DateWindow(first, first + relativedelta(months=1, days=-1), f"in {first:%B}", *match.span())
    saturday = today + timedelta(days=5 - today.weekday() - 7 * (today.weekday() == 6))
    label = "next weekend" if (match["which"] or "").strip().lower() == "next" else "this weekend"
    if label == "next weekend":
        saturday += timedelta(days=7)
    if _BEFORE_RE.search(text[: match.start()]):  # "what's due before the weekend?": up to the Friday
        friday = saturday - timedelta(days=1)
        return DateWindow(None, friday, f"by {describe_day(friday.isoformat())}", match.start(), match.end())
    return DateWindow(saturday, saturday + timedelta(days=1), label, *match.span())


_PREPOSITIONS = ("in", "for", "during", "over", "on", "at", "by", "of")
_BEFORE_RE = re.compile(r"\bbefore\s+$", re.I)
_UP_TO_RE = re.compile(r"(?:due\s+)?(?:before|by|until|till)\b", re.I)


def extract_date(text: str, today: date | None) -> tuple[date | None, str]:
    """Split a date phrase off a title: ("call mom tomorrow") -> (tomorrow, "call mom")."""
    found = find_date(text, today)
    if found is None:
        return None, text
    before, after = text[: found.start], text[found.end :]
    if not after.strip(" .!?,"):
        before = _COPULA_END_RE.sub("", before)  # "lily's swimming gala is next tuesday": the gala, not "gala is"
    return found.day, " ".join(f"{before} {after}".split()).strip(" ,")


_COPULA_END_RE = re.compile(r"\s+(?:is|are|was|were|'s)\s*$", re.I)


def date_value(text: str, today: date | None) -> date | None:
    """`text` read as nothing but a date ("to Friday", "2026-12-01"), else None."""
    text = text.strip(" .!?")
    # With its preposition first: "on the 30th" is a date where a bare "the 30th" may be a position.
    for phrase in (text, re.sub(r"^(?:to|for|until|till|on|by|due|as)\s+", "", text, flags=re.I)):
        found = find_date(phrase, today)
        if found and found.start == 0 and found.end == len(phrase):
            return found.day
    return None


_SHIFT_COUNTS = {**_COUNTS, "another": 1, "a further": 1, "an extra": 1, "an additional": 1}
_SHIFT_RE = re.compile(
    r"(?:\s+(?P<particle>back|forward|ahead|out|up|on))?(?:\s+by|\s+for)?"
    rf"\s+(?P<count>\d{{1,4}}|{alternation(_SHIFT_COUNTS)})\s+(?:more\s+|extra\s+)?(?P<unit>day|week|fortnight|month)s?"
    r"(?:\s+(?P<dir>later|earlier|sooner|forward|back|ahead|out|on|more|extra|before|after))?$",
    re.I,
)
_EARLIER = {"forward", "up", "earlier", "sooner", "before"}
_NOT_A_SHIFT_RE = re.compile(r"\b(?:in|within|to|until|till|from|every|each)$", re.I)
"""Before the amount these make it a date counted from today ("in a week") or a repeat, not a move."""


def find_shift(text: str) -> tuple[int, str] | None:
    """An amount to move a due date by that ends `text` ("wash car back a week", "the dentist forward
    2 days", "taxes by a fortnight"): where it starts and the shift as a value (`shifted` reads it)."""
    match = _SHIFT_RE.search(text)
    directed = match is not None and (match["particle"] or match["dir"])  # "to a day later" is from its date
    if match is None or (not directed and _NOT_A_SHIFT_RE.search(text[: match.start()].rstrip())):
        return None
    count = match["count"].lower()
    number = int(count) if count.isdigit() else _SHIFT_COUNTS[count]
    unit = match["unit"].lower()
    number, unit = (number * 14, "day") if unit == "fortnight" else (number, unit)
    sign = "-" if {(match["particle"] or "").lower(), (match["dir"] or "").lower()} & _EARLIER else "+"
    return match.start(), f"{sign}{number} {unit}s"


_STEPS: dict[str, Callable[[int], relativedelta]] = {
    "days": lambda n: relativedelta(days=n),
    "weeks": lambda n: relativedelta(weeks=n),
    "months": lambda n: relativedelta(months=n),  # "a month later" than 31 January is 28 February
}
_SHIFTED_RE = re.compile(r"^(?P<sign>[+-])(?P<number>\d+) (?P<unit>days|weeks|months)$")


def shift_words(value: str | None) -> str | None:
    """A shift value in words ("+7 days" -> "7 days later", "-1 weeks" -> "1 week earlier"), else None."""
    if value is None or not (match := _SHIFTED_RE.match(value)):
        return None
    unit = match["unit"].removesuffix("s") if match["number"] == "1" else match["unit"]
    return f"{match['number']} {unit} {'earlier' if match['sign'] == '-' else 'later'}"


SAME_DAY_AS = "same day as "
"""A due date value that names another todo whose date it takes: "same day as the haircut"."""


def shifted(value: str | None, due_date: str | None) -> str | None:
    """The due date `value` moves to when it is a shift ("+7 days") of `due_date`: None when it is none,
    when there is no due date to move or no calendar date to move it to; any other value as it is."""
    if value is None or not (match := _SHIFTED_RE.match(value)):
        return value
    try:
        day = date.fromisoformat(due_date or "")
    except ValueError:
        return None
    amount = int(match["number"]) * (-1 if match["sign"] == "-" else 1)
    try:
        return (day + _STEPS[match["unit"]](amount)).isoformat()
    except (OverflowError, ValueError):  # past year 9999 (or before year 1): no date to move to
        return None


def describe_day(iso: str) -> str:
    """ "Wednesday 2026-11-25": the weekday people think in, and the date they can check."""
    try:
        return f"{date.fromisoformat(iso):%A} {iso}"
    except ValueError:
        return iso


def _date_of(match: re.Match[str], today: date | None) -> date | None:
    """The date a `_DATE_RE` match names; relative phrases need today, so None without it."""
    try:
        if match["iso"]:
            return date.fromisoformat(match["iso"])
        if today is None:
            return None
        if match["holiday"]:
            this_year = date.fromisoformat(f"{today.year}-{_HOLIDAYS[match['holiday'].lower()]}")
            return this_year if this_year >= today else this_year.replace(year=today.year + 1)
        if match["slash_day"]:
            return _slashed(match, today)
        if match["day3"]:
            return _day_of_month(int(match["day3"]), today)
        if match["weekday"]:
            return _weekday(match, today)
        if relative := _relative_day(match, today):
            return relative
        if match["rel"] and re.search(r"\b(?:end|eod|close|cob|today|tonight|this)\b", match["rel"], re.I):
            return today
        day = library_date(_spoken(match), today)
        if day and (day.month, day.day) == (today.month, today.day) and not (match["year1"] or match["year2"]):
            return today  # "on 24 November", said on 24 November, is today rather than next year
        return day
    except ValueError:  # "2026-02-30", "31 June"
        return None


_NOT_SPOKEN_RE = re.compile(
    r"\b(?:eod|cob|close of business|end of (?:the )?day|first thing|on|by|for|before|until|till|due|the|of"
    r"|morning|afternoon|evening|night)\b",
    re.I,
)
"""Words of a date phrase the library does not need, and that would only confuse it."""


def _spoken(match: re.Match[str]) -> str:
    """The phrase as `dateparser` reads it: counts as digits ("a couple of weeks" -> "2 weeks")."""
    count, unit = match["count"] or match["count2"], match["unit"] or match["unit2"]
    if count is None:
        spoken = _NOT_SPOKEN_RE.sub("", _TOMORROW_SPELLINGS_RE.sub("tomorrow", match[0]))
        return _ORDINAL_RE.sub(lambda word: str(_ORDINALS[word[0].lower()]), spoken)  # "the fifth of December"
    number = int(count) if count.isdigit() else _COUNTS[count.lower()]
    days, unit = (number * 14, "day") if unit.lower() == "fortnight" else (number, unit.lower())
    start = "from tomorrow" if (match["from"] or match["on"] or "").lower() == "tomorrow" else "from now"
    return f"{days} {unit}s {start}"


_SETTINGS = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False, "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC"}
"""Today is already the user's date (the current-date line is in their timezone), so the library
counts from noon of it with no zone conversion: the server's own zone can never shift a day."""


@functools.lru_cache(maxsize=1024)
def library_date(phrase: str, today: date) -> date | None:
    """`phrase` ("tomorrow", "15 December", "3 days from now") as a date, counted from `today`."""
    settings = {**_SETTINGS, "RELATIVE_BASE": datetime.combine(today, time(12))}
    found = dateparser.parse(" ".join(phrase.split()), languages=["en"], settings=settings)
    return found.date() if found else None


library_date("tomorrow", date(2026, 1, 1))  # dateparser loads its language data on first use: at start, not mid-turn


def _day_of_month(day: int, today: date) -> date:
    """ "On the 3rd": the next such day, today included, skipping months too short to have it."""
    return rrule(MONTHLY, bymonthday=day, dtstart=datetime.combine(today, time()))[0].date()


def _relative_day(match: re.Match[str], today: date) -> date | None:
    """The weekend (a Sunday is still in it), next week (its Monday), the end of the week (Friday) or
    of the month, next month (its first day)."""
    weekday = today.weekday()
    if match["weekend"]:
        return today if weekday == 6 else today + timedelta(days=5 - weekday)
    if match["nextweek"]:
        return today + timedelta(days=7 - weekday)
    if match["endweek"]:  # a working week's end: its Friday ("end of next week": the one after)
        return today + timedelta(days=(4 - weekday) % 7 + (7 if match["endnext"] else 0))
    if match["nextmonth"] or match["endmonth"]:
        first_of_next = today.replace(day=1) + relativedelta(months=1)
        return first_of_next if match["nextmonth"] else first_of_next - timedelta(days=1)
    return None


_ORDINAL_RE = re.compile(rf"\b(?:{alternation(_ORDINALS)})\b", re.I)


def _slashed(match: re.Match[str], today: date) -> date | None:
    """ "3/12" is the 3rd of December, as most of the world writes it; "12/25" can only be month first. The
    year, when not given, is the next one in which that day is still to come."""
    day, month = int(match["slash_day"]), int(match["slash_month"])
    if month > 12 >= day:
        day, month = month, day
    year = int(match["slash_year"]) if match["slash_year"] else None
    if year is not None:
        return date(year + 2000 if year < 100 else year, month, day)
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def _weekday(match: re.Match[str], today: date) -> date:
    """ "Friday" is the next Friday after today; "this Friday" may be today; "next Friday" is in next week."""
    target = _WEEKDAYS[match["weekday"].lower()]
    mod = "next" if match["weekafter"] else (match["mod"] or "").strip().lower()  # "friday next week"
    if mod.endswith("next"):
        return today + timedelta(days=7 - today.weekday() + target)
    ahead = (target - today.weekday()) % 7 or (0 if mod in ("this", "this coming") else 7)
    return today + timedelta(days=ahead + (7 if match["weekon"] else 0))  # "a week on Friday": the Friday after
