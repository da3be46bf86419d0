"""The offline model over a conversation, through the real SDK loop and tools: a change that takes another
todo's date, "neither of those" and "both of them" pointing back at what was just done or shown, and a
question about what a todo was for, answered with its note."""

from __future__ import annotations

from tests.unit.test_offline_model import Chat, chat, seed, stored, titles

__all__ = ["chat"]  # the fixture, shared with test_offline_model


async def _due(chat: Chat, title: str) -> str | None:
    return next(todo["due_date"] for todo in await stored(chat.context) if todo["title"] == title)


async def test_a_todo_takes_the_day_of_another(chat: Chat) -> None:
    await seed(chat.context, "Dentist check-up", due_date="2026-11-27")
    await seed(chat.context, "Haircut", due_date="2026-12-02")
    moved = await chat.say("make the dentist the same day as the haircut")
    assert moved.args("update_todo") == [
        {"todo": moved.args("update_todo")[0]["todo"], "title": None, "description": None, "completed": None,
         "due_date": "2026-12-02"}
    ]  # fmt: skip
    assert await _due(chat, "Dentist check-up") == "2026-12-02"
    await seed(chat.context, "Vet")
    undated = await chat.say("put the haircut on the same day as the vet")
    assert undated.names == ["list_todos"] and "no due date" in undated.answer
    assert await _due(chat, "Haircut") == "2026-12-02"


async def test_neither_of_those_reopens_what_was_just_ticked_off(chat: Chat) -> None:
    await seed(chat.context, "Do the laundry", "Do the ironing", "Hoover the stairs")
    await chat.say("I've done the laundry and the ironing")
    await chat.say("actually neither of those is done")
    reopened = [("Do the laundry", False), ("Do the ironing", False), ("Hoover the stairs", False)]
    assert await titles(chat.context) == reopened


async def test_both_of_them_after_changing_one_of_two_shown(chat: Chat) -> None:
    await seed(chat.context, "Book car service", "Renew car tax", "Buy a bird feeder")
    await chat.say("anything to do with the car?")
    await chat.say("delete the car service one")
    await chat.say("both of them actually")
    assert await titles(chat.context) == [("Buy a bird feeder", False)]


async def test_what_a_todo_was_for_is_answered_with_its_note(chat: Chat) -> None:
    await seed(chat.context, "Potluck at Jo's", description="bring mac and cheese for 12")
    await seed(chat.context, "Call mum")
    asked = await chat.say("wait what was i bringing to the potluck")
    assert "mac and cheese" in asked.answer and "Call mum" not in asked.answer
    assert await titles(chat.context) == [("Potluck at Jo's", False), ("Call mum", False)]


async def test_a_question_and_a_change_in_one_message_are_both_answered(chat: Chat) -> None:
    await seed(chat.context, "Put the bins out", "Buy dog food", "Clear the garage")
    both = await chat.say("what's left? tick off the bins too")
    assert both.answer.startswith('Marked "Put the bins out" as done.')
    assert "Buy dog food" in both.answer and "Clear the garage" in both.answer
    assert await titles(chat.context) == [
        ("Put the bins out", True),
        ("Buy dog food", False),
        ("Clear the garage", False),
    ]


async def test_the_same_question_asked_of_another_todo(chat: Chat) -> None:
    await seed(chat.context, "Dentist appointment", due_date="2026-11-27")
    await seed(chat.context, "Opticians appointment")
    first = await chat.say("when's my dentist appointment?")
    assert "Friday 2026-11-27" in first.answer
    again = await chat.say("and the other appointment?")
    assert again.answer == '"Opticians appointment" isn\'t done yet. It has no due date.'


async def test_a_group_less_the_todo_left_out(chat: Chat) -> None:
    await seed(chat.context, "Buy Christmas tree", "Write the Christmas cards", "Wrap Christmas presents", "Call mum")
    await chat.say("I have done all the Christmas tasks except the cards.")
    assert await titles(chat.context) == [
        ("Buy Christmas tree", True),
        ("Write the Christmas cards", False),
        ("Wrap Christmas presents", True),
        ("Call mum", False),
    ]


async def test_a_topic_of_two_words_means_the_todos_that_say_both(chat: Chat) -> None:
    await seed(chat.context, "Order marquee for the garden party", "Send garden party invitations", "Pay the gardener")
    await chat.say("Please remove everything concerning the garden party; it has been cancelled.")
    assert await titles(chat.context) == [("Pay the gardener", False)]


async def test_everything_to_do_with_it_after_a_remark_is_what_the_remark_told_of(chat: Chat) -> None:
    await seed(
        chat.context, "Christmas party - book venue", "Christmas party - order food", "Renew work laptop warranty"
    )
    await chat.say("the christmas party's been cancelled 😭 delete everything to do with it")
    assert await titles(chat.context) == [("Renew work laptop warranty", False)]


async def test_the_x_and_the_y_ones_are_two_todos(chat: Chat) -> None:
    await seed(chat.context, "Put up the christmas lights", "Buy a wreath", "Write the christmas cards")
    await chat.say("delete the christmas lights and the wreath ones")
    assert await titles(chat.context) == [("Write the christmas cards", False)]


async def test_changes_then_a_question_about_what_they_leave(chat: Chat) -> None:
    await seed(chat.context, "Do the hoovering", "Defrost the freezer", "Book a haircut")
    asked = await chat.say("tick off the hoovering and then tell me what's left")
    assert "Defrost the freezer" in asked.answer and "Book a haircut" in asked.answer
    assert await titles(chat.context) == [
        ("Do the hoovering", True),
        ("Defrost the freezer", False),
        ("Book a haircut", False),
    ]


async def test_a_delete_never_guesses_at_a_todo_that_shares_one_word(chat: Chat) -> None:
    await seed(chat.context, "Buy dog food", "Call mum")
    missed = await chat.say("delete the dog walking one")
    assert missed.names == ["list_todos"] and "couldn't find" in missed.answer
    await chat.say("delete the dog food one")
    assert await titles(chat.context) == [("Call mum", False)]
