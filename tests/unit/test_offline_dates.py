"""The offline model's dates: which words are a date (here), and what date they mean (dateparser,
pinned to the turn's today, never the clock)."""

from __future__ import annotations

from datetime import date

import pytest

from service.agent.offline.dates import extract_date, find_date, library_date
from service.agent.offline.intents import AddIntent, NewTodo
from service.agent.offline.reading import parse_intent

TODAY = date(2026, 11, 24)  # a Tuesday


@pytest.mark.parametrize(
    ("phrase", "day"),
    [
        ("tomorrow", "2026-11-25"),
        ("the day after tomorrow", "2026-11-26"),
        ("next friday", "2026-12-04"),  # in next week, as people mean it
        ("on friday", "2026-11-27"),
        ("on the 3rd", "2026-12-03"),
        ("on 24 november", "2026-11-24"),  # today, not next year
        ("by 23 nov", "2027-11-23"),
        ("in a couple of weeks", "2026-12-08"),
        ("a week from today", "2026-12-01"),
        ("3 days from now", "2026-11-27"),
        ("two weeks from tomorrow", "2026-12-09"),
        ("in a week's time", "2026-12-01"),
        ("in 1 month", "2026-12-24"),
        ("end of the month", "2026-11-30"),
        ("by COB Friday", "2026-11-27"),  # the close of Friday's business, not of today's
        ("eod tomorrow", "2026-11-25"),
        ("by cob", "2026-11-24"),
        ("first thing Monday", "2026-11-30"),
        ("on the fifth of December", "2026-12-05"),
        ("by the twenty-first of december", "2026-12-21"),
        ("december the fifth", "2026-12-05"),
        ("until Friday next week", "2026-12-04"),
        ("move it to monday next week", "2026-11-30"),  # as "next monday": it was a week later
        ("on 3/12", "2026-12-03"),  # day first, as most of the world writes it
        ("by 12/25", "2026-12-25"),  # a 25th month there is not
        ("due 2/3/27", "2027-03-02"),
        ("by christmas eve", "2026-12-24"),
        ("before new year's day", "2027-01-01"),
        ("on Friday the 27th of November", "2026-11-27"),  # the weekday belongs to the date, not the title
        ("on friday 4th december", "2026-12-04"),
        ("end of teh month", "2026-11-30"),
        ("a week on friday", "2026-12-04"),  # the Friday after this one
        ("a fortnight today", "2026-12-08"),  # two weeks from today, as British English says it
        ("a week tomorrow", "2026-12-02"),
        ("due on friday of next week", "2026-12-04"),
    ],
)
def test_date_phrases_count_from_the_turns_today(phrase: str, day: str) -> None:
    found = find_date(phrase, TODAY)
    assert found is not None and found.day.isoformat() == day


def test_the_library_is_pinned_to_the_given_today_not_the_clock() -> None:
    assert library_date("tomorrow", date(2030, 2, 28)) == date(2030, 3, 1)
    assert find_date("tomorrow", None) is None  # without a current-date line there is no "tomorrow"


@pytest.mark.parametrize(
    "title",
    ["book a table for friday dinner", "buy 1/2 kg flour", "ring grandma about xmas", "buy presents for christmas"],
)
def test_a_date_that_names_a_thing_stays_in_the_title(title: str) -> None:
    assert extract_date(title, TODAY) == (None, title)


@pytest.mark.parametrize(
    ("message", "todo"),
    [
        ("add dentist next friday", NewTodo("Dentist", None, "2026-12-04")),
        ("remind me to call mum the day after tomorrow", NewTodo("Call mum", None, "2026-11-26")),
        ("add submit expenses 3 days from now", NewTodo("Submit expenses", None, "2026-11-27")),
        ("put pay council tax on my list for a week from today", NewTodo("Pay council tax", None, "2026-12-01")),
        ("tomorrow I need to pick up the prescription", NewTodo("Pick up the prescription", None, "2026-11-25")),
        ("first thing Monday I need to email the landlord", NewTodo("Email the landlord", None, "2026-11-30")),
        (
            "Could you possibly pop 'ring the council about the bins' on my list for Thursday, please? Cheers",
            NewTodo("Ring the council about the bins", None, "2026-11-26"),
        ),
        ("add order the turkey, needs doing by christmas eve", NewTodo("Order the turkey", None, "2026-12-24")),
        (
            "remind me to chase Greenway for the deposit by COB Friday",
            NewTodo("Chase Greenway for the deposit", None, "2026-11-27"),
        ),
        (
            "I should be grateful if you would add 'Window cleaner' on Friday the 27th of November.",
            NewTodo("Window cleaner", None, "2026-11-27"),
        ),
        ("pls ad submit expenses due end of teh month", NewTodo("Submit expenses", None, "2026-11-30")),
        (
            "Could you be so good as to put down that I must collect my prescription on the 3rd of December?",
            NewTodo("Collect my prescription", None, "2026-12-03"),
        ),
        ("Put down 'Hairdresser' for next Tuesday, please.", NewTodo("Hairdresser", None, "2026-12-01")),
        (
            "I should like you to add 'Book the boiler service', if that is not too much trouble.",
            NewTodo("Book the boiler service"),
        ),
    ],
)
def test_a_relative_date_after_the_title_is_its_due_date(message: str, todo: NewTodo) -> None:
    assert parse_intent(message, TODAY) == AddIntent((todo,))
