"""The offline model over a conversation, through the real SDK loop and tools: a change that takes another
todo's date, "neither of those" and "both of them" pointing back at what was just done or shown, and a
question about what a todo was for, answered with its note."""

from __future__ import annotations

import pytest

from tests.unit.test_offline_model import Chat, chat, seed, stored, titles

__all__ = ["chat"]  # the fixture, shared with test_offline_model


async def _due(chat: Chat, title: str) -> str | None:
    return next(todo["due_date"] for todo in await stored(chat.context) if todo["title"] == title)


async def test_a_todo_takes_the_day_of_another(chat: Chat) -> None:
    await seed(chat.context, "Dentist check-up", due_date="2026-11-27")
    await seed(chat.context, "Haircut", due_date="2026-12-02")
    moved = await chat.say("make the dentist the same day as the haircut")
    assert [call["due_date"] for call in moved.args("update_todo")] == ["2026-12-02"]
    assert await _due(chat, "Dentist check-up") == "2026-12-02" and await _due(chat, "Haircut") == "2026-12-02"
    await seed(chat.context, "Vet")
    undated = await chat.say("put the haircut on the same day as the vet")
    assert undated.names == ["list_todos"] and "no due date" in undated.answer
    assert await _due(chat, "Haircut") == "2026-12-02"


@pytest.mark.parametrize(
    ("seeded", "said", "left"),
    [
        # "neither of those" reopens what was just ticked off
        (
            ["Do the laundry", "Do the ironing", "Hoover the stairs"],
            ["I've done the laundry and the ironing", "actually neither of those is done"],
            [("Do the laundry", False), ("Do the ironing", False), ("Hoover the stairs", False)],
        ),
        # "both of them" after changing one of two shown
        (
            ["Book car service", "Renew car tax", "Buy a bird feeder"],
            ["anything to do with the car?", "delete the car service one", "both of them actually"],
            [("Buy a bird feeder", False)],
        ),
        # a group, less the todo left out
        (
            ["Buy Christmas tree", "Write the Christmas cards", "Wrap Christmas presents", "Call mum"],
            ["I have done all the Christmas tasks except the cards."],
            [("Buy Christmas tree", True), ("Write the Christmas cards", False), ("Wrap Christmas presents", True),
             ("Call mum", False)],
        ),
        # a topic of two words means the todos that say both
        (
            ["Order marquee for the garden party", "Send garden party invitations", "Pay the gardener"],
            ["Please remove everything concerning the garden party; it has been cancelled."],
            [("Pay the gardener", False)],
        ),
        # "everything to do with it" after a remark is what the remark told of, never the whole list
        (
            ["Christmas party - book venue", "Christmas party - order food", "Renew work laptop warranty"],
            ["the christmas party's been cancelled 😭 delete everything to do with it"],
            [("Renew work laptop warranty", False)],
        ),
        # "the X and the Y ones" are two todos
        (
            ["Put up the christmas lights", "Buy a wreath", "Write the christmas cards"],
            ["delete the christmas lights and the wreath ones"],
            [("Write the christmas cards", False)],
        ),
        # never the whole list: a label that names todos, "all of it" after a search, "all of them" after one change,
        # a remark about someone's party, a group no todo fits in every word
        (
            ["Clean the kitchen floor", "Descale the kettle", "Call mum"],
            ["the kitchen stuff - delete all of it"],
            [("Clean the kitchen floor", False), ("Descale the kettle", False), ("Call mum", False)],
        ),
        (
            ["Book car service", "Renew car tax", "Call mum"],
            ["anything about the car? delete all of it", "yes"],
            [("Call mum", False)],
        ),
        (
            ["Buy milk", "Call mum", "Book MOT", "Pay rent"],
            ["show my list", "delete the milk one", "mark all of them done"],
            [("Call mum", False), ("Book MOT", False), ("Pay rent", False)],
        ),
        (
            ["Call mum", "Book mum's birthday lunch", "Order the party cake"],
            ["mum's party was moved, delete everything about it"],
            [("Call mum", False), ("Book mum's birthday lunch", False), ("Order the party cake", False)],
        ),
        (
            ["Weed the garden", "Party playlist for Sam", "Call mum"],
            ["delete everything about the garden party"],
            [("Weed the garden", False), ("Party playlist for Sam", False), ("Call mum", False)],
        ),
        # a span less the todo left out
        (
            ["Buy milk", "Call mum", "Book MOT"],
            ["show my list", "the first two are done except the milk"],
            [("Buy milk", False), ("Call mum", True), ("Book MOT", False)],
        ),
    ],
)  # fmt: skip
async def test_a_conversation_leaves_the_list_as_meant(
    chat: Chat, seeded: list[str], said: list[str], left: list[tuple[str, bool]]
) -> None:
    await seed(chat.context, *seeded)
    for message in said:
        await chat.say(message)
    assert await titles(chat.context) == left


@pytest.mark.parametrize(
    ("seeded", "said", "named", "left"),
    [
        # a list question and a change in one message: the change made, the question answered after it
        (
            ["Put the bins out", "Buy dog food", "Clear the garage"],
            "what's left? tick off the bins too",
            ["Buy dog food", "Clear the garage"],
            [("Put the bins out", True), ("Buy dog food", False), ("Clear the garage", False)],
        ),
        (
            ["Do the hoovering", "Defrost the freezer", "Book a haircut"],
            "tick off the hoovering and then tell me what's left",
            ["Defrost the freezer", "Book a haircut"],
            [("Do the hoovering", True), ("Defrost the freezer", False), ("Book a haircut", False)],
        ),
    ],
)
async def test_a_question_beside_a_change_is_answered_after_it(
    chat: Chat, seeded: list[str], said: str, named: list[str], left: list[tuple[str, bool]]
) -> None:
    await seed(chat.context, *seeded)
    answer = (await chat.say(said)).answer
    assert answer.startswith("Marked") and all(title in answer for title in named)
    assert await titles(chat.context) == left


async def test_what_a_todo_was_for_is_answered_with_its_note(chat: Chat) -> None:
    await seed(chat.context, "Potluck at Jo's", description="bring mac and cheese for 12")
    await seed(chat.context, "Call mum")
    asked = await chat.say("wait what was i bringing to the potluck")
    assert "mac and cheese" in asked.answer and "Call mum" not in asked.answer
    assert await titles(chat.context) == [("Potluck at Jo's", False), ("Call mum", False)]


async def test_the_same_question_asked_of_another_todo(chat: Chat) -> None:
    await seed(chat.context, "Dentist appointment", due_date="2026-11-27")
    await seed(chat.context, "Opticians appointment")
    first = await chat.say("when's my dentist appointment?")
    assert "Friday 2026-11-27" in first.answer
    again = await chat.say("and the other appointment?")
    assert again.answer == '"Opticians appointment" isn\'t done yet. It has no due date.'


async def test_a_delete_never_guesses_at_a_todo_that_shares_one_word(chat: Chat) -> None:
    await seed(chat.context, "Buy dog food", "Call mum")
    missed = await chat.say("delete the dog walking one")
    assert missed.names == ["list_todos"] and "couldn't find" in missed.answer
    await chat.say("delete the dog food one")
    assert await titles(chat.context) == [("Call mum", False)]


@pytest.mark.parametrize(
    "said", ["the milk is done?", "so the milk's done?", "the first one is done?", "the milk is not done?"]
)
async def test_a_report_with_a_question_mark_asks_and_changes_nothing(chat: Chat, said: str) -> None:
    await seed(chat.context, "Buy milk", "Call mum")
    asked = await chat.say(said)
    assert asked.names == ["list_todos"] and asked.answer == '"Buy milk" isn\'t done yet. It has no due date.'
    assert await titles(chat.context) == [("Buy milk", False), ("Call mum", False)]
    told = await chat.say("the milk is done")
    assert told.names == ["list_todos", "update_todo"] and await titles(chat.context) == [
        ("Buy milk", True),
        ("Call mum", False),
    ]


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("change the date to 3/12", "2026-12-03"),
        ("change the due date to friday", "2026-11-27"),
        ("set the date to tomorrow", "2026-11-25"),
        ("change the deadline to the 3rd", "2026-12-03"),
    ],
)
async def test_the_date_changed_is_that_of_the_todo_talked_about(chat: Chat, said: str, due: str) -> None:
    """ "the date" is the todo's due date, never a todo to rename ("3/12" was once its new title)."""
    await seed(chat.context, "Dentist check-up", due_date="2026-11-26")
    await seed(chat.context, "Call mum")
    await chat.say("when is the dentist?")
    changed = await chat.say(said)
    assert [(call["title"], call["due_date"]) for call in changed.args("update_todo")] == [(None, due)]
    assert await titles(chat.context) == [("Dentist check-up", False), ("Call mum", False)]
    assert await _due(chat, "Dentist check-up") == due


@pytest.mark.parametrize(
    ("seeded", "said", "left"),
    [
        # "sat" and "sun" are days after "to" as after "on" ("I sat down" is no date)
        (["Swimming lesson", "Buy milk"], ["move swimming to sat"], [("Swimming lesson", False, "2026-11-28")]),
        # a todo named as "the X one" and given a title of its own is renamed whole, not word for word
        (
            ["Bake cake for school fete"],
            ["change the cake one to bake cupcakes for the fete"],
            [("Bake cupcakes for the fete", False, None)],
        ),
    ],
)
async def test_everyday_phrasings_change_what_they_say(
    chat: Chat, seeded: list[str], said: list[str], left: list[tuple[str, bool, str | None]]
) -> None:
    await seed(chat.context, *seeded)
    for message in said:
        await chat.say(message)
    todos = {todo["title"]: (todo["completed"], todo["due_date"]) for todo in await stored(chat.context)}
    assert [(title, *todos[title]) for title, _, _ in left] == left


async def test_what_a_note_says_is_answered_for_a_todo_named_or_just_shown(chat: Chat) -> None:
    await seed(chat.context, "Football match for Max", due_date="2026-11-28", description="away game at Hillside")
    await seed(chat.context, "Dentist for Ella", description="Dr Patel, 3:40pm")
    named = await chat.say("what does the note on ellas dentist thing say")
    assert "Dr Patel" in named.answer and "Hillside" not in named.answer
    await chat.say("whats on saturday")
    shown = await chat.say("what does the note on that say")
    assert "Hillside" in shown.answer and "Dr Patel" not in shown.answer


async def test_a_remark_about_someones_event_tells_what_everything_for_it_is(chat: Chat) -> None:
    await seed(chat.context, "Party bags for Mia's party", "Book soft play for Mia's party", "Pay council tax")
    paused = await chat.say("mia's party is off, delete everything for it")
    assert "Party bags" in paused.answer and "soft play" in paused.answer and "council tax" not in paused.answer
