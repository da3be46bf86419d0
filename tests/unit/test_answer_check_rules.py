"""The answer check's reading of an answer (service/agent/answer_check.py): which actions it claims,
what is markup, and which tool calls of the turn succeeded."""

from __future__ import annotations

import json

import pytest

from service.agent.answer_check import CONFIRM_LINE, claimed, review, succeeded
from service.agent.markup import MarkupFilter, strip_markup
from service.agent.spec import load_spec
from service.agent.tools import ALL_TOOLS
from service.agent.truthful import truthful_answer

SPEC = load_spec()
TOOLS = {name: ALL_TOOLS[name].description for name in SPEC.tools}


@pytest.mark.parametrize(
    ("answer", "kinds"),
    [
        ("I've added Buy milk to your list.", {"add"}),
        ('Added "Buy milk".', {"add"}),
        ("Done! Removed it.", {"delete"}),
        ("Buy milk has been marked as done.", {"change"}),
        ("I marked Buy milk as complete and deleted Call mom.", {"change", "delete"}),
        ("Your list has been updated.", {"any"}),
        ("You have 2 completed todos: Buy milk and Call mom.", set()),
        ("Would you like me to delete Buy milk?", set()),
        ("I couldn't find a gym todo, so nothing was deleted.", set()),
        ("I did not mark anything as done.", set()),
        ("Earlier I added Buy milk for you.", set()),
        ("Which one do you mean: Call mom or Call dad?", set()),
        ("Your todos: 1. Buy milk (done) 2. Call mom.", set()),
        ("The second todo is now done.", {"change"}),
        ("Buy milk is now marked as complete.", {"change"}),
        ("Call mom is now gone.", {"delete"}),
        ("The todo Call mom has been restored.", {"undo"}),
        ("I've undone that: Buy milk is back.", {"undo"}),
        ("Buy milk is done and Call mom is open.", set()),  # a state, not a change
        ("Done: Order groceries", {"any"}),
        ("All set!", {"any"}),
        ("Done with the list?", set()),
    ],
)
def test_claims_are_read_per_sentence(answer: str, kinds: set[str]) -> None:
    assert claimed(answer) == kinds


def _turn(name: str, output: dict[str, object]) -> list[dict[str, object]]:
    return [
        {"type": "function_call", "call_id": "c1", "name": name, "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": json.dumps(output)},
    ]


def test_a_claim_needs_a_successful_call_of_its_kind() -> None:
    deleted = _turn("delete_todo", {"deleted": {"id": "x", "title": "Buy milk"}})
    failed = _turn("delete_todo", {"error": {"code": "not_found", "message": "no such todo"}})
    assert succeeded(deleted) == {"delete_todo"} and succeeded(failed) == set()
    assert review("I deleted Buy milk.", deleted) is None
    assert review("I deleted Buy milk.", failed) is not None
    assert review("I added Buy milk.", deleted) is not None  # the wrong kind of action
    vague = review("Your list has been updated.", deleted)  # true, but it names nothing: the user is told what
    assert vague is not None and vague.problem == "unnamed"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ('<tool_call>{"name": "add_todo", "arguments": {}}</tool_call>', ""),
        ('Done. <tool_response>{"name": "list_todos"}</tool_response>', "Done."),
        ('```json\n{"name": "add_todo", "arguments": {"title": "x"}}\n```', ""),
        ('{"name": "add_todo", "arguments": {"title": "x"}}', ""),
        ("Sure<|im_end|>", "Sure"),
        ('<function name="add_todo" arguments=\'{"title": "x"}\'/>', ""),
        ('Okay <function=add_todo>{"title": "x"}</function>', "Okay"),
        ('Here is JSON: ```json\n{"a": 1}\n```', 'Here is JSON: ```json\n{"a": 1}\n```'),
        ("You have 2 todos.", "You have 2 todos."),
    ],
)
def test_markup_is_stripped_and_prose_kept(text: str, clean: str) -> None:
    assert strip_markup(text) == clean


def test_the_truthful_answer_says_what_the_turn_did() -> None:
    assert (
        truthful_answer(_turn("add_todo", {"todo": {"title": "Buy milk"}})) == 'Here is what I did: added "Buy milk".'
    )
    assert "nothing on your list was changed" in truthful_answer([])


def test_the_truthful_answer_asks_what_a_tool_error_left_to_the_user() -> None:
    candidates = [{"id": "a", "title": "Call mom"}, {"id": "b", "title": "Call dad"}]
    ambiguous = _turn("update_todo", {"error": {"code": "ambiguous", "message": "…", "candidates": candidates}})
    assert truthful_answer(ambiguous) == 'Which one do you mean: "Call mom" or "Call dad"?'
    missing = _turn("delete_todo", {"error": {"code": "not_found", "message": "…", "closest": ["Gym at 7"]}})
    assert truthful_answer(missing) == (
        'I couldn\'t find that todo on your list, so nothing was changed (the closest: "Gym at 7").'
    )
    added = _turn("add_todo", {"todo": {"title": "Buy milk"}})
    both = added + [{**item, "call_id": "c2"} for item in ambiguous]
    assert (
        truthful_answer(both)
        == 'Here is what I did: added "Buy milk". Which one do you mean: "Call mom" or "Call dad"?'
    )
    nothing = _turn("undo_last_turn", {"error": {"code": "not_found", "message": "there is no recent change to undo"}})
    assert truthful_answer(nothing) == "There is no recent change to undo."
    invalid = _turn("add_todo", {"error": {"code": "invalid_argument", "message": "title is too long"}})
    assert "nothing on your list was changed" in truthful_answer(invalid)  # the model's to mend, not the user's


STREAMED_ANSWERS = [
    'Sure.<tool_call>\n{"name": "add_todo", "arguments": {}}\n</tool_call> Added <b>milk</b>.<|im_end|> a < b',
    'Okay <function=add_todo>{"title": "x"}</function> I added x.',
    'On it. <function name="delete_todo" arguments=\'{"todo": "x"}\'/> Removed x.',
    '<tools>[{"name": "list_todos"}]</tools>You have 2 todos.',
    'Done. {"name": "update_todo", "arguments": {"todo": "milk", "completed": true}} Milk is ticked off.',
    'Here: ```json\n{"todo": {"title": "Buy milk"}}\n``` Added Buy milk.',
    'Write it as {"a": 1} if you like; 3 < 4 and {braces} stay.',
]


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 100])
@pytest.mark.parametrize("text", STREAMED_ANSWERS)
def test_a_streamed_answer_reads_as_the_stored_one_however_it_is_cut(text: str, cut: int) -> None:
    stream = MarkupFilter()
    pieces = [stream.feed(text[i : i + cut]) for i in range(0, len(text), cut)]
    assert "".join(pieces) + stream.flush() == strip_markup(text)
    assert not any(marker in "".join(pieces) for marker in ("<tool", "<function", "<|", '"arguments"', '"todo"'))


def test_prose_streams_as_it_comes_and_a_tag_in_the_making_waits() -> None:
    stream = MarkupFilter()
    assert stream.feed("You have ") == "You have"  # the space waits for what follows it
    assert stream.feed("2 todos.<tool_c") == " 2 todos."
    assert stream.feed('all>{"name": "list_todos"}</tool_call> Anything else?') == " Anything else?"
    assert stream.flush() == ""


def test_an_unclosed_tool_call_at_the_end_of_a_stream_is_dropped() -> None:
    stream = MarkupFilter()
    assert stream.feed('Okay <tool_call>{"name": "list_todos"') + stream.flush() == "Okay"


def test_a_call_and_a_made_up_tool_output_written_into_prose_are_markup() -> None:
    text = (
        '{"name": "delete_todo", "arguments": {"todo": "Buy bread"}} ```\n'
        '{"deleted":{"id":"1351094b","title":"Buy bread"}}\n```'
    )
    assert strip_markup(text) == ""
    assert review(text, []) is not None
    assert strip_markup('Use {"a": 1} as the format.') == 'Use {"a": 1} as the format.'  # not a tool's JSON


def test_an_undo_claimed_without_the_undo_call_is_re_asked_with_that_call_forced() -> None:
    found = review("The todo Call mom has been restored.", [])
    assert found is not None and found.problem == "unsupported_claim" and found.tool_choice == "undo_last_turn"
    undone = _turn("undo_last_turn", {"undone": [{"did": "re-added", "id": "x", "title": "Call mom"}]})
    assert review("The todo Call mom has been restored.", undone) is None


def test_a_made_up_change_is_re_asked_with_some_call_required_never_a_chosen_one() -> None:
    # Forcing add_todo after "I added it" could invent a todo the user never asked for (a greeting).
    found = review("I added that for you.", [])
    assert found is not None and found.tool_choice == "required"


def test_a_reply_that_is_only_a_tools_name_is_a_call_the_model_did_not_make() -> None:
    found = review("get_user_context", [], tools=TOOLS)
    assert found is not None and found.problem == "unmade_call" and found.tool_choice == "get_user_context"
    assert review("Your timezone is Asia/Tokyo.", [], tools=TOOLS) is None


def test_the_truthful_answer_covers_several_todos_undo_and_facts() -> None:
    deleted = _turn("delete_todo", {"deleted": [{"id": "a", "title": "Buy milk"}, {"id": "b", "title": "Pay rent"}]})
    assert truthful_answer(deleted) == 'Here is what I did: deleted "Buy milk"; deleted "Pay rent".'
    undone = _turn("undo_last_turn", {"undone": [{"did": "re-added", "id": "x", "title": "Call mom"}]})
    assert truthful_answer(undone) == 'Here is what I did: re-added "Call mom".'
    context = _turn("get_user_context", {"display_name": "Ada", "timezone": "Europe/London", "preferences": {}})
    assert truthful_answer(context) == "Here is what I found: your name is Ada; your timezone is Europe/London."


def test_a_refusal_after_a_failed_call_or_a_read_is_re_asked_but_not_after_a_change() -> None:
    failed = _turn("delete_todo", {"error": {"code": "not_found", "message": "no todo matches", "closest": ["Gym"]}})
    found = review("I'm sorry, but I can't assist with that.", failed)
    assert found is not None and found.problem == "refusal" and "titles it offers" in found.note
    # "anything left to do?" listed (nothing open) and refused: a reflex, re-asked.
    read = _turn("list_todos", {"todos": [], "pagination": {}})
    assert review("I'm sorry, but I can't assist with that.", read) is not None
    # "add milk and email my boss": the add is done, the email is rightly refused.
    added = _turn("add_todo", {"todo": {"id": "1", "title": "Milk"}})
    assert review("Added Milk. Sorry, I can't help with sending an email.", added) is None


def test_a_reply_that_only_repeats_the_users_message_is_no_answer() -> None:
    found = review("remind me to call the dentist", [], request="Remind me to call the dentist!")
    assert found is not None and found.problem == "parroted" and found.tool_choice is None
    assert review("I added call the dentist.", _turn("add_todo", {"todo": {"title": "Call the dentist"}})) is None
    assert review("Hello!", [], request="hello") is None  # a greeting answered in kind


def test_an_answer_naming_nothing_the_turn_changed_is_replaced_not_re_asked() -> None:
    added = _turn("add_todo", {"todo": {"id": "x", "title": "Water the plants"}})
    found = review("The plants need water.", added)
    assert found is not None and found.problem == "unnamed" and not found.reask
    assert review('Added "Water the plants".', added) is None
    several = _turn("delete_todo", {"deleted": [{"id": "a", "title": "Buy milk"}, {"id": "b", "title": "Pay rent"}]})
    assert review("I deleted Pay rent and the milk.", several) is None  # one title named is enough
    listed = _turn("list_todos", {"todos": [{"id": "a", "title": "Buy milk"}], "pagination": {}})
    assert review("You have 1 todo: Buy milk.", listed) is None  # nothing changed: nothing to name


def test_a_reply_reciting_the_instructions_is_re_asked_but_the_list_of_what_it_can_do_may_be_said() -> None:
    instructions = SPEC.instructions
    found = review("Answer from tool results: name the todos you touched.", [], TOOLS, "thanks", instructions)
    assert found is not None and found.problem == "recited" and found.tool_choice is None
    # The capability list is in parentheses in the instructions: an answer to "what can you do?" says it.
    assert (
        review("I can add, list, complete, rename, re-date, delete and undo todos.", [], TOOLS, "help", instructions)
        is None
    )
    assert review("Hi! How can I help with your todos today?", [], TOOLS, "hi", instructions) is None


def test_a_placeholder_where_a_fact_belongs_is_re_asked_with_a_call_required() -> None:
    found = review("Your name is [Your Name].", [], TOOLS, "what's my name?")
    assert found is not None and found.problem == "placeholder" and found.tool_choice == "required"
    assert review("Today is [Today's Date].", [], TOOLS, "what day is it?") is not None
    # Brackets the user wrote are theirs, and brackets in a title are no slot.
    assert (
        review('Added "[URGENT] fix the roof".', _turn("add_todo", {"todo": {"title": "[URGENT] fix the roof"}}))
        is None
    )
    assert review("Your note says [your name here].", [], TOOLS, "my note says [your name here]") is None


def test_a_change_promised_but_not_made_is_re_asked_with_a_call_required() -> None:
    found = review("I apologize for the confusion. Let's correct that.", [], TOOLS, "sorry, I meant almond milk")
    assert found is not None and found.problem == "promised" and found.tool_choice == "required"
    assert review("I'll add it now.", [], TOOLS, "add milk") is not None
    assert review("Shall I add it to your list?", [], TOOLS, "milk") is None  # asking is no promise
    renamed = _turn("update_todo", {"todo": {"title": "Almond milk"}})
    assert review('Let me know if "Almond milk" needs anything else.', renamed) is None
    assert review('Renamed it to "Almond milk". I\'ll add more if you like.', renamed) is None  # a change was made


def test_a_todo_the_users_message_names_but_no_call_touched_is_re_asked_about() -> None:
    known = {"1": "Buy milk", "2": "Buy bread", "3": "Call mom"}
    milk = _turn("update_todo", {"todo": {"id": "1", "title": "Buy milk", "completed": True}})
    found = review('Marked "Buy milk" as done.', milk, TOOLS, "got the milk and the bread, check both off", known=known)
    assert found is not None and found.problem == "untouched" and '"Buy bread"' in found.note
    assert found.tool_choice == "required"  # left the choice, a small model only answers again
    assert review('Marked "Buy milk" as done.', milk, TOOLS, "mark milk done", known=known) is None
    renamed = _turn("update_todo", {"todo": {"id": "1", "title": "Bread rolls"}})
    assert review('Renamed it to "Bread rolls".', renamed, TOOLS, "rename milk to bread rolls", known=known) is None
    added = _turn("add_todo", {"todo": {"id": "9", "title": "Eggs"}})
    assert review('Added "Eggs".', added, TOOLS, "add eggs", known={"1": "Buy eggs"}) is None
    assert review("Hello!", [], TOOLS, "hi, what about the bread?", known=known) is None  # nothing changed


def test_an_answer_that_tells_the_user_to_call_a_tool_is_re_asked_with_that_tool() -> None:
    found = review("To see them, you can call `list_todos` with no arguments.", [], TOOLS, "how many todos?")
    assert found is not None and found.problem == "tool_named" and found.tool_choice == "list_todos"
    both = review("Call list_todos, then update_todo.", [], TOOLS, "tick it off")
    assert both is not None and both.tool_choice == "required"
    assert review("You have 4 todos on your list.", [], TOOLS, "how many todos?") is None


def test_an_answer_that_asks_which_todo_without_naming_the_candidates_is_replaced() -> None:
    candidates = [{"id": "a", "title": "Email Tom"}, {"id": "b", "title": "Email Tina"}]
    ambiguous = _turn("update_todo", {"error": {"code": "ambiguous", "message": "…", "candidates": candidates}})
    found = review("Which of the two todos did you mean?", ambiguous, TOOLS, "I sent the email, tick it off")
    assert found is not None and found.problem == "candidates_unnamed" and not found.reask
    assert review("Do you mean Email Tom or Email Tina?", ambiguous, TOOLS, "I sent the email") is None


def test_a_refusal_to_bring_a_todo_back_is_re_asked() -> None:
    found = review("I'm sorry, but I can't bring back the recycling todo.", [], TOOLS, "oops, bring it back")
    assert found is not None and found.problem == "refusal"


def test_a_reply_saying_what_a_tool_does_instead_of_calling_it_is_re_asked_with_that_tool() -> None:
    found = review("I hold your display name, timezone, and preferences, and today's date in your timezone.", [], TOOLS)
    assert found is not None and found.problem == "recited_tool" and found.tool_choice == "get_user_context"
    undo = ALL_TOOLS["undo_last_turn"].description
    found = review(undo, [], TOOLS, "revert that")
    assert found is not None and found.tool_choice == "undo_last_turn"
    # After the call, its facts may be said in the tool's words.
    context = _turn("get_user_context", {"display_name": "Ann", "timezone": "UTC"})
    assert review("I hold your display name (Ann), timezone (UTC) and preferences.", context, TOOLS) is None
    assert review("Here are your todos, oldest first: Buy milk, Call mom.", [], TOOLS) is None


def test_the_approval_question_imitated_by_the_model_is_re_asked() -> None:
    fake = f'Before I add "Call plumber", please confirm:\n- Add "Call plumber"\n{CONFIRM_LINE}'
    found = review(fake, [], TOOLS, "actually, add call the plumber")
    assert found is not None and found.problem == "imitated_question" and found.tool_choice == "required"
