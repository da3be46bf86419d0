"""The offline model's reading step (service/agent/offline/reading.py): a message cut into clauses, each
read as one intent - several actions in one message, a request among remarks - and the latest message
read in the context of our previous answer."""

from __future__ import annotations

from datetime import date

import pytest

from service.agent.offline.adds import corrected_title
from service.agent.offline.conversation import PastCall, Turn
from service.agent.offline.followups import understand
from service.agent.offline.intents import (
    AddIntent,
    BulkIntent,
    ChangeIntent,
    Choice,
    Condition,
    Intent,
    ListIntent,
    MultiIntent,
    NewTodo,
    ReplyIntent,
    UndoIntent,
)
from service.agent.offline.reading import parse_intent

TODAY = date(2026, 11, 24)  # a Tuesday


def _parts(intent: Intent) -> list[tuple[str, ...]]:
    """Each action as (kind, its refs or titles...), for comparing readings."""
    parts = intent.parts if isinstance(intent, MultiIntent) else (intent,)
    read: list[tuple[str, ...]] = []
    for part in parts:
        if isinstance(part, ChangeIntent):
            read.append((part.action, *(choice.ref for choice in part.choices)))
        elif isinstance(part, AddIntent):
            read.append(("add", *(todo.title for todo in part.todos)))
        else:
            read.append((type(part).__name__,))
    return read


@pytest.mark.parametrize(
    ("message", "actions"),
    [
        ("drop the yoga class and tick off the novel", [("delete", "the yoga class"), ("complete", "the novel")]),
        ("I fed the fish and paid the gas bill", [("complete", "fed the fish"), ("complete", "paid the gas bill")]),
        (
            "picked up the parcel, and put 'call the vet' on the list",
            [("complete", "picked up the parcel"), ("add", "Call the vet")],
        ),
        ("remove butter and mark flour as done", [("delete", "butter"), ("complete", "flour")]),
        (
            "move the dentist to friday and the haircut to saturday",
            [("due", "the dentist"), ("due", "the haircut")],
        ),
        (
            "bedsheets are changed. next, add hoover the living room",
            [("complete", "changed bedsheets"), ("add", "Hoover the living room")],
        ),
        ("add milk, eggs and bread", [("add", "Milk", "Eggs", "Bread")]),  # one add of a list, not three actions
        ("mark butter and sugar done", [("complete", "butter and sugar")]),  # one change of two todos
        ("lose the skis one, not doing that this year", [("delete", "the skis one")]),  # the remark is no todo
        ("undo please, my mistake", [("UndoIntent",)]),
        ("Actually no, it has not gone yet after all. Please undo that.", [("UndoIntent",)]),  # a why, no rename
        (
            "delte the dentist appt its been cancelled",
            [("delete", "the dentist appt", "the dentist appt it is been cancelled")],
        ),
        ("no rush on the gutters, take the date off it", [("due", "the gutters", "it")]),
        ("well i did it yesterday so mark it off", [("complete", "it", "it")]),
        ("just clear everything tbh", [("BulkIntent",)]),
        ("bill's paid - not the gas one, the water one", [("complete", "the water one")]),  # was: both renamed
        ("hmm no, undo that - I jumped the gun", [("UndoIntent",)]),
        ("delete all the milk ones, we're going dairy free... well, sort of", [("delete", "all the milk ones")]),
        ("acme moved the kickoff to tuesday next week", [("due", "the kickoff")]),
        ("I did all the overdue ones over the weekend, tick them off", [("complete", "all the overdue ones")]),
        ("actually make that three days from the original date, not two", [("ReplyIntent",)]),  # no new title
        (  # "so those are done" says again what the deeds told
            "paid the gas bill and dropped the library books back this morning so those are done",
            [("complete", "paid the gas bill"), ("complete", "dropped the library books back")],
        ),
        ("could u remove all the done ones pleae, i cant see for looking", [("BulkIntent",)]),
        (
            "Please would you be good enough to take 'Collect dry cleaning' off my list altogether",
            [("delete", "Collect dry cleaning")],
        ),
        (
            "The pension review has been put back a week. Could you change the date to the 3rd of December then?",
            [("due", "The pension review has been put back a week", "it")],  # "the date" is the review's
        ),
        ("mark off pay rent and add pay council tax", [("complete", "pay rent"), ("add", "Pay council tax")]),
        ("never mind the haircut", [("delete", "the haircut")]),
        ("feed the cat isn't done actually", [("reopen", "feed the cat")]),
        ("remove the deadline on go to the gym", [("due", "go to the gym")]),  # the date goes, not the todo
        # "it" is the todo the clause before changed; after a rename, by its new title
        ("mark pay rent done and set it due friday", [("complete", "pay rent"), ("due", "pay rent")]),
        ("tick off pay rent, then make it due monday", [("complete", "pay rent"), ("due", "pay rent")]),
        ("rename buy milk to buy oat milk and mark it done", [("rename", "buy milk"), ("complete", "Buy oat milk")]),
        ("reopen pay rent and call it pay december rent", [("reopen", "pay rent"), ("rename", "pay rent")]),
        ("the gym one is vague, call it cancel gym membership instead", [("rename", "the gym one", "it")]),
        ("got the milk and the bread, check both off", [("complete", "got the milk and the bread", "both")]),
        ("milk, eggs, bread on the list", [("add", "Milk", "Eggs", "Bread")]),
        ("the milk on my list is done", [("complete", "the milk")]),  # not an add of "the milk is done"
        ("fine just add get milk then", [("add", "Get milk")]),
        ("put chem lab report on my list, due thursday fr", [("add", "Chem lab report")]),
        ("When is the rent to pay?", [("status", "the rent")]),
        ("ok delete it, already sorted", [("delete", "it")]),  # one todo, not every done one
        ("don't delete the gym one, just tick it off", [("complete", "the gym one", "it")]),
        (
            "I renewed the library books, make them due a fortnight from now",
            [("due", "renewed the library books", "them")],
        ),
        ("The task of jacket, please change it to 'Buy winter boots'.", [("rename", "jacket", "it")]),
        ("the milk, eggs n bread are done", [("complete", "the milk, eggs n bread")]),
        (
            "dry cleaning picked up n bins taken out",
            [("complete", "picked up dry cleaning"), ("complete", "taken out bins")],
        ),
        ("Henderson invoice went out this morning", [("complete", "went out Henderson invoice")]),
        ("The rent, I have paid it yesterday.", [("complete", "The rent", "it")]),
        ("I have register at the GP, finally.", [("complete", "register at the GP")]),
        ("slides are DONE lowkey proud of myself", [("complete", "slides")]),
        ("the machine broke", [("ReplyIntent",)]),  # news, not a chore done
        ("I keep putting off the dentist, it's ridiculous", [("ReplyIntent",)]),  # it renamed the dentist todo
        ("I meant to pay the rent this morning but completely forgot", [("ReplyIntent",)]),  # it set a due date
        ("Delete everything but the groceries", [("BulkIntent",)]),
        ("undo that last one", [("UndoIntent",)]),
        ("delete all done todos except milk, and add bread", [("BulkIntent",), ("add", "Bread")]),
        ("dinner is done in 5 minutes", [("ReplyIntent",)]),  # these completed todos once
        ("the kids are done eating", [("ReplyIntent",)]),
        ("I have call with the bank tomorrow", [("ReplyIntent",)]),
        ("we have book club tonight", [("ReplyIntent",)]),
        ("Sam has to go on friday", [("ReplyIntent",)]),
        ("mum called", [("ReplyIntent",)]),  # mum did
        ("why is milk still on the list?", [("ReplyIntent",)]),  # these added junk
        ("milk is already on the list", [("ReplyIntent",)]),
        ("add practice piano for 1/2 hour", [("add", "Practice piano for 1/2 hour")]),  # a fraction, no date
        ("make it friday not thursday", [("due", "it")]),  # it renamed the todo "Call friday"
        (  # the remark renamed the todo to "the braces people I need"
            "actually the dentist thing should say 'Call orthodontist' instead, it's the braces people I need",
            [("rename", "the dentist thing")],
        ),
        ("delete the shopping list one", [("delete", "the shopping list one")]),  # it was the whole list
        ("is there anything car related on my list?", [("ListIntent",)]),
        ("have I missed any deadlines?", [("ListIntent",)]),
        ("what's left then?", [("ListIntent",)]),
        ("nvm delete that", [("delete", "that")]),
        ("Oh dear, I've changed my mind. Undo that, please.", [("UndoIntent",)]),
        ("wait no undo that i still havent done the last question", [("UndoIntent",)]),
        ("maths worksheet isnt actually finished lol can u untick it", [("reopen", "maths worksheet", "it")]),
        ("I ticked off the Christmas cards by mistake. Can you put it back?", [("reopen", "the Christmas cards")]),
        ("The EICR needs booking by the 5th", [("due", "The EICR")]),
        ("tax return deadline is 31st January, can you put that on it", [("due", "tax return")]),
        ("which invoices have I got on here?", [("ListIntent",)]),
        ("When have the library books got to go back?", [("status", "the library books")]),
        (
            "Could you add three things for me: clean the gutters, take the old paint to the tip, and phone grandma.",
            [("add", "Clean the gutters", "Take the old paint to the tip", "Phone grandma")],
        ),
        ("the tap is leaking again, call it fix tap", [("rename", "the tap is leaking", "it")]),
        ("my membership ran out", [("ReplyIntent",)]),
    ],
)
def test_a_message_is_read_as_its_actions(message: str, actions: list[tuple[str, ...]]) -> None:
    assert _parts(parse_intent(message, TODAY)) == actions


def test_a_pronoun_points_at_the_todo_a_remark_names() -> None:
    intent = parse_intent("the tap is dripping again, reopen it", TODAY)
    assert isinstance(intent, ChangeIntent) and intent.action == "reopen"
    assert [(choice.ref, choice.antecedent) for choice in intent.choices] == [
        ("the tap is dripping", True),
        ("it", False),
    ]


def test_a_due_date_after_the_title_is_the_todos_not_a_second_todo() -> None:
    assert parse_intent("remind me to renew the car insurance in 3 days", TODAY) == AddIntent(
        (NewTodo("Renew the car insurance", None, "2026-11-27"),)
    )


def _added(text: str, title: str) -> Turn:
    output = {"todo": {"id": "t1", "title": title, "completed": False}}
    return Turn(text, calls=[PastCall("c1", "add_todo", {"title": title}, output)], answer=f'Added "{title}".')


@pytest.mark.parametrize(
    ("fix", "action", "value"),
    [("no wait, thursday", "due", "2026-11-26"), ("sorry, limes", "rename", "limes")],
)
def test_a_short_fix_after_an_add_corrects_what_was_just_added(fix: str, action: str, value: str) -> None:
    intent = understand([_added("add buy lemons", "Buy lemons"), Turn(fix)], TODAY)
    assert isinstance(intent, ChangeIntent)
    # "that" or "it": either points back at the todo just added
    assert (intent.action, intent.choices[0].ref in ("that", "it"), intent.choices[0].value) == (action, True, value)


def test_and_more_after_an_add_shares_its_verb() -> None:
    intent = understand([_added("add buy milk", "Buy milk"), Turn("and eggs")], TODAY)
    assert intent == AddIntent((NewTodo("Buy eggs"),))


@pytest.mark.parametrize("said", ["hang on, bring that back", "wait undo that the payment bounced"])
def test_undo_is_its_own_intent_whatever_came_before(said: str) -> None:
    assert understand([_added("add buy milk", "Buy milk"), Turn(said)], TODAY) == UndoIntent()


def test_just_one_of_the_todos_we_asked_about_is_that_change_of_it() -> None:
    asked = Turn("remove the receipts and the flyers", answer="Before I delete 2 todos, please confirm: ...")
    intent = understand([asked, Turn("actually no, just the receipts one")], TODAY)
    assert intent == ChangeIntent("delete", (Choice("the receipts one"),))
    deleted = {"todo": {"id": "t1", "title": "Shred receipts", "completed": False}}
    done = Turn("remove the receipts and the flyers", [PastCall("c1", "delete_todo", {"todo": "t1"}, deleted)])
    assert understand([done, Turn("just the receipts one")], TODAY) != intent  # after the change nothing is narrowed


def test_an_undo_among_the_clauses_is_the_request() -> None:
    assert parse_intent("hmm no, scratch that - undo it", TODAY) == UndoIntent()


def test_how_things_are_after_an_add_renames_nothing() -> None:
    assert not isinstance(
        understand([_added("add buy milk", "Buy milk"), Turn("it's been a long day")], TODAY), ChangeIntent
    )


def test_oh_and_also_after_an_add_is_more_of_it() -> None:
    intent = understand([_added("add call the vet", "Call the vet"), Turn("oh, and also book a car service")], TODAY)
    assert intent == AddIntent((NewTodo("Book a car service"),))


def test_a_conversation_is_read_in_one_pass_not_once_per_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reading of a message read the turns before it twice when it was unclear: 2^n readings for n turns."""
    from service.agent.offline import followups

    calls = 0
    read = followups.understand

    def counted(turns: list[Turn], today: date | None) -> object:
        nonlocal calls
        calls += 1
        return read(turns, today)

    monkeypatch.setattr(followups, "understand", counted)
    followups.understand([Turn("hmm blah") for _ in range(16)], TODAY)
    assert calls <= 2 * 16


def test_a_title_with_a_backslash_is_no_pattern() -> None:
    intent = parse_intent(r"tick off backup D:\docs and make it due monday", TODAY)  # raised re.error
    assert isinstance(intent, MultiIntent) and [part.action for part in intent.parts] == ["complete", "due"]  # type: ignore[union-attr]


def test_an_undo_after_an_action_in_one_message_is_no_undo_of_the_turn_before() -> None:
    assert parse_intent("rename milk to oat milk. actually revert that", TODAY) != UndoIntent()


def _adding(*titles: str) -> Turn:
    outputs = [{"todo": {"id": f"id{i}", "title": title, "completed": False}} for i, title in enumerate(titles)]
    calls = [
        PastCall(f"c{i}", "add_todo", {"title": title}, out)
        for i, (title, out) in enumerate(zip(titles, outputs, strict=True))
    ]
    return Turn("add " + " and ".join(titles), calls=calls, answer="Added.")


@pytest.mark.parametrize(
    ("added", "message", "ref", "day"),
    [
        (("Milk", "Eggs", "Bread"), "put them all down for saturday", "them all", "2026-11-28"),
        (("Invoice Murray", "Invoice Chen"), "all three by COB Thursday", "them", "2026-11-26"),
        (("Call the plumber",), "by friday please", "it", "2026-11-27"),
        (("Call the plumber",), "n its for tmrw", "it", "2026-11-25"),
    ],
)
def test_a_date_right_after_an_add_dates_what_was_added(
    added: tuple[str, ...], message: str, ref: str, day: str
) -> None:
    assert understand((_adding(*added), Turn(message)), TODAY) == ChangeIntent("due", (Choice(ref, day),))


@pytest.mark.parametrize(
    ("message", "value"),
    [
        ("change the plumber one to 'call electrician', it's the lights not the pipes", "call electrician"),
        ("change 'call plumber' to 'call plumber about boiler' so i remember why", "call plumber about boiler"),
    ],
)
def test_a_quoted_new_title_then_why_is_one_rename_to_the_quoted_words(message: str, value: str) -> None:
    intent = parse_intent(message, TODAY)
    assert isinstance(intent, ChangeIntent) and intent.choices[0].value == value


def _completed(title: str, other: str) -> Turn:
    """ "done <title>" after a listing of it and `other` (the todo a correction may move the change to)."""
    listed = {"todos": [{"id": "t1", "title": title}, {"id": "t2", "title": other}]}
    output = {"todo": {"id": "t1", "title": title, "completed": True}}
    calls = [PastCall("c0", "list_todos", {}, listed), PastCall("c1", "update_todo", {"todo": "t1"}, output)]
    return Turn(f"done {title}", calls, "Done.")


def test_oh_and_another_too_after_a_change_makes_it_again_and_takes_nothing_back() -> None:
    intent = understand((_completed("Maths hw", "French vocab"), Turn("oh and the french vocab too")), TODAY)
    assert intent == ChangeIntent("complete", (Choice("the french vocab"),))  # "oh" opened no correction


def test_i_meant_this_not_that_after_a_change_moves_it_to_the_todo_meant() -> None:
    done = _completed("Physics revision", "Chemistry revision")
    intent = understand((done, Turn("wait no i meant chemistry not physics")), TODAY)
    assert isinstance(intent, MultiIntent)
    assert _parts(intent) == [("reopen", '"Physics revision"'), ("complete", "chemistry")]


def test_a_date_after_a_delete_dates_nothing() -> None:
    deleted = Turn(
        "delete milk",
        calls=[PastCall("c1", "delete_todo", {"todo": "id0"}, {"deleted": {"id": "id0", "title": "Milk"}})],
    )
    assert not isinstance(understand((deleted, Turn("by friday please")), TODAY), ChangeIntent)


def test_another_of_the_same_change_needs_too_and_a_bare_and_is_a_new_todo() -> None:
    deleted = {"deleted": {"id": "id0", "title": "Clear the garage", "completed": False}}
    before = Turn("get rid of the garage one", calls=[PastCall("c1", "delete_todo", {"todo": "id0"}, deleted)])
    assert understand((before, Turn("and update cv too")), TODAY) == ChangeIntent("delete", (Choice("update cv"),))
    assert not isinstance(understand((before, Turn("and call mom")), TODAY), ChangeIntent)


_GROCERY = "grocery shopping"


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        (  # "it" is the note, not the todo
            "remove the note from the dentist one, don't need it anymore",
            ChangeIntent("describe", (Choice("the dentist one", ""),)),
        ),
        (  # why the deadline went deletes nothing
            "there's no deadline on the novel anymore, book club got cancelled",
            ChangeIntent("due", (Choice("the novel", "none"),)),
        ),
        ("put 'ring after 5' on the GP one", ChangeIntent("describe", (Choice("the GP one", "ring after 5"),))),
        (  # a note on a todo, not a new todo "On the landlord one"
            "jot down on the landlord one: ask about the damp",
            ChangeIntent("describe", (Choice("the landlord one", "ask about the damp"),)),
        ),
        ("give the tax return a deadline of monday", ChangeIntent("due", (Choice("the tax return", "2026-11-30"),))),
        (
            "lily's swimming gala is next tuesday, stick it on the list",
            AddIntent((NewTodo("Lily's swimming gala", None, "2026-12-01"),)),
        ),
        (  # the first word is the misspelt command; "shop" in the new title stays
            "chnage grocery shopping to weekly food shop pls",
            ChangeIntent("rename", (Choice(_GROCERY, "weekly food shop", correction=True, replaces=_GROCERY),)),
        ),
        ("what's due before the weekend?", ListIntent(False, None, date(2026, 11, 27), "by Friday 2026-11-27")),
        (
            "anything i need to get done before the end of the month?",
            ListIntent(False, None, date(2026, 11, 30), "by Monday 2026-11-30"),
        ),
        ("which bills have i still got to pay?", ListIntent(completed=False, search="bills")),
        ("before I delete anything, remind me what's on my list?", ListIntent()),
        ("It has been a long week and the kids are ill, so everything is late.", ReplyIntent("unclear")),
        ("when's sam's parents evening again?", ChangeIntent("status", (Choice("sam's parents evening"),))),
        ("actually can you bring back the milk one", UndoIntent()),
        ("waitt no restore it", UndoIntent()),
        (
            "ugh what a day. the birthday card is bought at least, thank god",
            ChangeIntent("complete", (Choice("the birthday card"),)),
        ),
        (  # an add asked for in so many words after a remark
            "my sister's coming over on saturday so can you add hoover the spare room for friday",
            AddIntent((NewTodo("Hoover the spare room", None, "2026-11-27"),)),
        ),
        ("not that date, the 5th", ChangeIntent("due", (Choice("that", "2026-12-05"),))),
        (  # why, said after the title, is no part of it
            "add call the bank tomorrow cuz they blocked my card again smh",
            AddIntent((NewTodo("Call the bank", None, "2026-11-25"),)),
        ),
        (  # a change of "it" right after a question about a todo is a change of that todo
            "have I done the car tax? actually I'm pretty sure I paid it yesterday, mark it done",
            ChangeIntent("complete", (Choice("done the car tax", antecedent=True), Choice("it"))),
        ),
        (  # never every open todo: "what should I do next?" names none
            "what should i do next? oh and i've just booked the dentist so tick that off",
            ReplyIntent("unclear"),
        ),
        (
            "what have I got left to do? no need to change anything, just want to see",
            ListIntent(completed=False),
        ),
        (
            "um add er ring the garage about the tyres for tomorrow and um yeah that's it",
            AddIntent((NewTodo("Ring the garage about the tyres", None, "2026-11-25"),)),
        ),
        ("I should be there", ReplyIntent("unclear")),  # no todo is called "I"
        (  # the deadline goes, never the todo
            "forget the deadline on the tax return, it's whenever now",
            ChangeIntent("due", (Choice("the tax return", "none"),)),
        ),
        ("remove the date", ChangeIntent("due", (Choice("it", "none"),))),  # not a todo called "the date"
        (
            "swap Jo for Kate on the kids one, they're at Kate's this week",
            ChangeIntent("rename", (Choice("the kids one", "Kate", correction=True, replaces="Jo"),)),
        ),
        ("can we bring the dentist forward to thursday", ChangeIntent("due", (Choice("the dentist", "2026-11-26"),))),
        ("done the sam one - no wait, the Jo one", ChangeIntent("complete", (Choice("the Jo one"),))),
        ("mark call sam done, no wait, the other one - sarah", ChangeIntent("complete", (Choice("sarah"),))),
        ("move it to friday, no wait, the 28th", ChangeIntent("due", (Choice("it", "2026-11-28"),))),
        (
            "could you pencil in ring the plumber for thursday ta",
            AddIntent((NewTodo("Ring the plumber", None, "2026-11-26"),)),
        ),
        (
            "for the paint, add a note saying: matt white, 2 tins",
            ChangeIntent("describe", (Choice("the paint", "matt white, 2 tins"),)),
        ),
        (
            "stick book flights on there. note to self: check the qantas sale first",
            AddIntent((NewTodo("Book flights", "check the qantas sale first"),)),
        ),
        (
            "shelve the tax return till the 3rd, accountant's away",
            ChangeIntent("due", (Choice("the tax return", "2026-12-03"),)),
        ),
        (
            "mot can slide to next tuesday, garage is chocka this week",
            ChangeIntent("due", (Choice("mot", "2026-12-01"),)),
        ),
        ("argh no put it back!! undo undo", UndoIntent()),
        ("what's on for Sam?", ListIntent(search="Sam")),  # the todos about a person
        ("anything i need to do for sarah?", ListIntent(completed=False, search="sarah")),
        ("what did I jot down for the dentist one", ChangeIntent("status", (Choice("the dentist one"),))),
        ("any notes on the mum call?", ChangeIntent("status", (Choice("the mum call"),))),
        (
            "laundry's done and so is the hoovering",
            ChangeIntent("complete", (Choice("laundry"), Choice("the hoovering"))),
        ),
    ],
)
def test_requests_people_phrase_their_own_way(message: str, intent: Intent) -> None:
    assert parse_intent(message, TODAY) == intent


@pytest.mark.parametrize(
    ("message", "actions"),
    [
        (
            "cancel the piano lesson, add swimming lesson for thursday instead",
            [("delete", "the piano lesson"), ("add", "Swimming lesson")],
        ),
        (  # "so" and a command after a deed: the command, of the todo the deed told of
            "I've got wrapping paper already so get rid of that one, and add label the presents for the 20th",
            [("delete", "got wrapping paper"), ("add", "Label the presents")],
        ),
        (  # "it" is the todo by its new title
            "change 'call john' to 'call john about the boiler' and make it thursday",
            [("rename", "call john"), ("due", "call john about the boiler")],
        ),
    ],
)
def test_two_actions_in_one_message(message: str, actions: list[tuple[str, ...]]) -> None:
    assert _parts(parse_intent(message, TODAY)) == actions


def test_a_deed_then_a_delete_of_that_completes_nothing_it_did_not_name() -> None:
    """It ticked off "Paint the fence": the deed's words and the fence clause were read as one reference."""
    message = "bought the paint, dave's ladder is a no go so delete that, and fence painting moves to sunday"
    completed = [refs for action, *refs in _parts(parse_intent(message, TODAY)) if action == "complete"]
    assert not any("fence" in ref for refs in completed for ref in refs)


def test_a_deleted_todo_told_after_another_change_and_joined_by_and_is_still_deleted() -> None:
    intent = parse_intent("mark the milk done and the dentist got cancelled", TODAY)
    assert _parts(intent) == [("complete", "the milk"), ("delete", "the dentist")]


def test_if_a_todo_is_still_on_the_list_means_if_it_is_open() -> None:
    intent = parse_intent("if the gym one is still on there, remove it", TODAY)
    assert isinstance(intent, ChangeIntent) and intent.only_if == Condition("the gym one", done=False)


def test_a_name_swapped_keeps_its_possessive() -> None:
    swapped = Choice("the kids one", "Kate", correction=True, replaces="Jo")
    assert corrected_title("Pick up the kids from Jo's", swapped) == "Pick up the kids from Kate's"


def test_it_was_this_not_that_after_a_change_moves_it_and_a_moved_date_is_undone_first() -> None:
    bought = understand(
        (_completed("Buy bread", "Buy milk"), Turn("no wait, it was the milk I bought, not the bread")), TODAY
    )
    assert _parts(bought) == [("reopen", '"Buy bread"'), ("complete", "the milk")]
    listed = {"todos": [{"id": "t1", "title": "Pay gas bill"}, {"id": "t2", "title": "Pay electricity bill"}]}
    output = {"todo": {"id": "t1", "title": "Pay gas bill", "due_date": "2026-11-27"}}
    calls = [PastCall("c0", "list_todos", {}, listed), PastCall("c1", "update_todo", {"todo": "t1"}, output)]
    moved = Turn("move the gas bill to friday", calls, "Moved.")
    fix = Turn("no wait, I meant the electric one, not gas. leave gas where it was")
    redone = ChangeIntent("due", (Choice("the electric one", "2026-11-27"),))
    assert understand((moved, fix), TODAY) == UndoIntent(then=redone)


def test_a_one_word_fix_replaces_the_word_it_is_a_slip_for() -> None:
    fixed = Choice("in the plumber one, it", "plumber", correction=True, replaces="in the plumber one, it")
    assert corrected_title("Ring the plumer about the leak", fixed) == "Ring the plumber about the leak"


def test_the_todo_meant_not_the_one_changed_moves_the_change() -> None:
    listed = {"todos": [{"id": "t1", "title": "Book dentist"}, {"id": "t2", "title": "Book the optician"}]}
    output = {"todo": {"id": "t1", "title": "Book dentist", "completed": False}}
    calls = [PastCall("c0", "list_todos", {}, listed), PastCall("c1", "update_todo", {"todo": "t1"}, output)]
    unmarked = Turn("unmark the dentist one pls", calls, "Reopened.")
    fix = Turn("no wait sorry - the optician, not the dentist. dentist really is done")
    assert _parts(understand((unmarked, fix), TODAY)) == [("complete", '"Book dentist"'), ("reopen", "the optician")]


@pytest.mark.parametrize(
    ("title", "other", "fix", "meant"),
    [
        (
            "Book Sam's dentist",
            "Book Sam's haircut",
            "no wait, the other one, the haircut. dentist isn't done yet",
            "the haircut",
        ),
        (
            "Email Sarah the minutes",
            "Email Tom the rota",
            "no wait, wrong one, it was tom's I sent. sarah's still to do",
            "tom's",
        ),
    ],
)
def test_a_correction_saying_the_first_is_not_done_moves_the_change(
    title: str, other: str, fix: str, meant: str
) -> None:
    intent = understand((_completed(title, other), Turn(fix)), TODAY)
    assert _parts(intent) == [("reopen", f'"{title}"'), ("complete", meant)]


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        # a command that names a deed ("get the car washed") is still the command
        ("delete get the car washed", [("delete", "get the car washed")]),
        ("OMG I FORGOT TO PAY THE RENT!! MARK IT DONE", [("complete", "PAY THE RENT", "IT")]),
        ("oops rent isnt actually paid yet, unmark it", [("reopen", "rent", "it")]),
        ("done w laundry", [("complete", "laundry")]),
        # the help asked for among remarks or after a greeting, not the list
    ],
)
def test_a_message_typed_in_a_hurry_reads_as_meant(message: str, parts: list[tuple[str, ...]]) -> None:
    assert _parts(parse_intent(message, TODAY)) == parts


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # the help asked for among remarks or after a greeting, not the list
        ("I'm new here - what can you actually do?", ReplyIntent("help")),
        ("hi, what can you do?", ReplyIntent("help")),
        # a todo never runs over a sentence end: "everything today. mark it all" is no reference
        ("did everything today. mark it all done", ReplyIntent("unclear")),
        ("actually put it back to how it was", UndoIntent()),
        ("Please move the hairdresser to 3/12.", ChangeIntent("due", (Choice("the hairdresser", "2026-12-03"),))),
        ("finish chapter 3/4", ChangeIntent("complete", (Choice("chapter 3/4"),))),  # a fraction, not a date
        ("I should really delete some of these one day", ReplyIntent("unclear")),  # a musing, no todo
        ("I need to clean up the kids stuff", AddIntent((NewTodo("Clean up the kids stuff"),))),
        ("add reduce dose to 1/2", AddIntent((NewTodo("Reduce dose to 1/2"),))),  # a fraction, not a date
        ("forgot the milk, add it again", ReplyIntent("unclear")),  # no todo called "It"
        ("I need to move the car", AddIntent((NewTodo("Move the car"),))),
        ("i should really call mum", AddIntent((NewTodo("Call mum"),))),
        ("leave the bread alone, but mark the eggs done", ChangeIntent("complete", (Choice("the eggs"),))),
        ("Hello dear, it's Margaret again.", ReplyIntent("unclear")),  # who writes, not a rename to "Margaret again"
        # a musing, then the question: the question is answered (the musing made the whole message unclear)
        (
            "I really ought to sort out the garage one of these days. Anyway, how many things have I got left?",
            ListIntent(completed=False),
        ),
        # "leave it on the list" is no todo to add ("Leave it" was one)
        (
            "take the date off the dentist but leave it on the list.",
            ChangeIntent("due", (Choice("the dentist", "none"),)),
        ),
        ("mark the milk done but keep the bread on my list", ChangeIntent("complete", (Choice("the milk"),))),
        ("move it back", ReplyIntent("unclear")),  # later, or as it was? not guessed
        ("which insurance renewals have I got?", ListIntent(search="insurance renewals")),
        ("remind me what I had to get from the chemist", ListIntent(search="the chemist")),
        ("have I got milk on there?", ChangeIntent("status", (Choice("milk"),))),
        ("did i do the hoovering yet", ChangeIntent("status", (Choice("the hoovering"),))),
        ("did I put any notes on the passport renewal?", ChangeIntent("status", (Choice("the passport renewal"),))),
        ("sorry, I haven't done either of those yet", ChangeIntent("reopen", (Choice("either of those"),))),
        ("actually neither of those is done", ChangeIntent("reopen", (Choice("those"),))),
        ("have I finished everything?", ListIntent(completed=False)),  # answered by what is still open
        # "those" after a search: the todos it found, as "all of it" is (a conversation test deletes them)
        (
            "anything about the car? delete those",
            ChangeIntent("delete", (Choice("everything about the car", antecedent=True), Choice("those"))),
        ),
        (
            "what's left? tick off the bins too",
            MultiIntent((ChangeIntent("complete", (Choice("the bins"),)),), asked=ListIntent(completed=False)),
        ),
        (
            "anything to do with the car? the tyres one is done by the way",
            MultiIntent((ChangeIntent("complete", (Choice("the tyres one"),)),), asked=ListIntent(search="the car")),
        ),
        (
            "is the gym thing done? if so delete it",
            ChangeIntent(
                "delete",
                (Choice("the gym thing", antecedent=True), Choice("it")),
                only_if=Condition("the gym thing", done=True),
            ),
        ),
    ],
)
def test_a_message_typed_in_a_hurry_reads_as(message: str, expected: Intent) -> None:
    assert parse_intent(message, TODAY) == expected


def test_a_new_note_asked_for_after_a_question_about_the_note_changes_the_note() -> None:
    intent = parse_intent("what did I write for the vet one? change it to booster jab and nail trim", TODAY)
    assert isinstance(intent, ChangeIntent) and intent.action == "describe"
    assert intent.choices[-1].value == "booster jab and nail trim"


SAID_IN_PLACE = {
    # message: (the title before, the title after)
    "the deck should go to Marcus, not Priya": ("Send deck to Priya", "Send deck to Marcus"),
    "Sam wants trainers now, not football boots": ("Buy Sam's football boots", "Buy Sam's trainers"),
    # a sentence no title takes renames nothing
    "the booking is for 6 people at 8, not 4": ("Book table for 4", "Book table for 4"),
    "the slides are for Tom from finance, not Jo": ("Email Jo the slides", "Email Jo the slides"),
}


@pytest.mark.parametrize(("message", "title", "renamed"), [(m, *titles) for m, titles in SAID_IN_PLACE.items()])
def test_a_sentence_said_in_place_of_a_name_gives_only_the_new_name(message: str, title: str, renamed: str) -> None:
    swapped = parse_intent(message, TODAY)
    assert isinstance(swapped, ChangeIntent)
    assert corrected_title(title, swapped.choices[0]) == renamed


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # todos of the list shown, told done: no list asked for
        ("the first two are done", ChangeIntent("complete", (Choice("the first two"),))),
        # a label before the request ("sprint wrap-up:") is no part of a todo
        ("sprint wrap-up: everything's done except the load test", BulkIntent("complete", False, ("the load test",))),
        # a group less the todos left out, never all of it
        (
            "I have done all the Christmas tasks except the cards.",
            ChangeIntent("complete", (Choice("all the Christmas tasks"),), keep=("the cards",)),
        ),
        # what is coming is no deed done: only the haircut moves
        (
            "move the haircut to saturday, I've got the dentist on friday",
            ChangeIntent("due", (Choice("the haircut", "2026-11-28"),)),
        ),
        # a deed told of "it" after a delete says why: nothing to tick off
        (
            "you can get rid of the netflix one, I cancelled it last week",
            ChangeIntent("delete", (Choice("the netflix one"),)),
        ),
        (
            "Add to my list, please: collect the dry cleaning, on the 5th of December.",
            AddIntent((NewTodo("Collect the dry cleaning", due_date="2026-12-05"),)),
        ),
        (
            'Dear Sir or Madam,\n\nI should be most grateful if you would add "Renew the television licence"'
            " to my list.\n\nYours faithfully,\nMargaret Hughes",
            AddIntent((NewTodo("Renew the television licence"),)),
        ),
    ],
)
def test_a_work_update_reads_as_meant(message: str, expected: Intent) -> None:
    assert parse_intent(message, TODAY) == expected


@pytest.mark.parametrize(
    ("message", "condition"),
    [
        ("is the gym thing done? if so delete it", Condition("the gym thing", done=True)),
        ("is the gym one still open? if so bin it", Condition("the gym one", done=False)),
        ("is milk on my list? if so delete it", Condition("milk", done=False)),
        ("have I paid the rent? if so tick it off", Condition("paid the rent", done=True)),
    ],
)
def test_a_condition_asked_as_a_question(message: str, condition: Condition) -> None:
    intent = parse_intent(message, TODAY)
    assert isinstance(intent, ChangeIntent) and intent.only_if == condition


def test_a_new_name_after_a_question_about_the_note_stays_a_rename() -> None:
    intent = parse_intent("what did I put down for friday? rename it to call the vet", TODAY)
    assert isinstance(intent, ChangeIntent) and intent.action == "rename"
