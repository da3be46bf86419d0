"""What the user asked that a real model's turn left undone (service/agent/intent_check.py): the request is
read by the offline reader, and each action with no call of its tool is re-asked with that tool."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from service.agent.intent_check import left_undone
from service.agent.snapshot import Snapshot

TODAY = date(2026, 11, 24)


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def _call(name: str, output: dict[str, Any], call_id: str = "c1", **arguments: Any) -> list[dict[str, Any]]:
    return [
        {"type": "function_call", "call_id": call_id, "name": name, "arguments": json.dumps(arguments)},
        {"type": "function_call_output", "call_id": call_id, "output": json.dumps(output)},
    ]


def _snapshot(*todos: tuple[str, str, bool]) -> Snapshot:
    return Snapshot("", {i: title for i, title, _ in todos}, frozenset(i for i, _, done in todos if done))


def test_the_second_of_two_actions_left_undone_is_re_asked_with_its_tool() -> None:
    request = [_user("Please delete the train tickets one. Also add print boarding passes.")]
    deleted = _call("delete_todo", {"deleted": {"id": "1", "title": "Book train tickets"}}, todo="train tickets")
    found = left_undone("I deleted it.", request, deleted, TODAY, None)
    assert found is not None and found.tool_choice == "add_todo"
    assert "print boarding passes" in found.note.lower()
    added = _call("add_todo", {"todo": {"id": "2", "title": "Print boarding passes"}}, "c2")
    assert left_undone("Done.", request, [*deleted, *added], TODAY, None) is None


def test_remind_me_read_as_a_change_to_a_missing_todo_is_re_asked_as_an_add() -> None:
    missing = _call("update_todo", {"error": {"code": "not_found", "message": "no such todo"}}, todo="the dentist")
    found = left_undone("I couldn't find it.", [_user("remind me to call the dentist")], missing, TODAY, None)
    assert found is not None and found.tool_choice == "add_todo" and "dentist" in found.note.lower()


def test_one_todo_ticked_off_of_all_of_them_names_the_open_rest() -> None:
    snapshot = _snapshot(("1", "Iron shirts", False), ("2", "Hang the washing", False), ("3", "Buy fruit", True))
    one = _call("update_todo", {"todo": {"id": "1", "title": "Iron shirts", "completed": True}}, todo="1")
    found = left_undone("Done.", [_user("tick off everything on my list")], one, TODAY, snapshot)
    assert found is not None and found.tool_choice == "update_todo"
    assert '"Hang the washing"' in found.note and "Buy fruit" not in found.note
    both = [*one, *_call("update_todo", {"todo": {"id": "2", "title": "Hang the washing"}}, "c2", todo="2")]
    assert left_undone("Done.", [_user("tick off everything on my list")], both, TODAY, snapshot) is None


def test_undo_answered_in_words_is_re_asked_with_the_undo_tool() -> None:
    found = left_undone("The changes of the latest turn…", [_user("revert that")], [], TODAY, None)
    assert found is not None and found.tool_choice == "undo_last_turn"


def test_a_tried_action_is_not_re_asked_even_when_its_todo_was_unclear() -> None:
    unclear = _call(
        "delete_todo", {"error": {"code": "ambiguous", "message": "2 match", "candidates": []}}, todo="call"
    )
    assert left_undone("Which call?", [_user("delete the call")], unclear, TODAY, None) is None
    # Arguments off the schema are no try: the action is still undone.
    wrong = _call("delete_todo", {"error": {"code": "invalid_argument", "message": "todo is required"}})
    found = left_undone("Sorry.", [_user("delete the call")], wrong, TODAY, None)
    assert found is not None and found.tool_choice == "delete_todo"


def test_messages_that_ask_for_no_action_are_left_to_the_model() -> None:
    for message in ("hi there", "thanks!", "asdkjh qwpoeiru zxcmvn", "what's the date today?"):
        assert left_undone("Hello!", [_user(message)], [], TODAY, None) is None, message
    # Several deletes wait for the user's yes: never forced by a re-ask.
    assert left_undone("Shall I?", [_user("delete everything on my list")], [], TODAY, None) is None


def test_a_list_request_answered_from_the_snapshot_stands_unless_it_names_nothing() -> None:
    snapshot = _snapshot(("1", "Fix the gate", False))
    assert left_undone('You have "Fix the gate".', [_user("what's on my list?")], [], TODAY, snapshot) is None
    found = left_undone("The user's name is not provided.", [_user("what's on my list?")], [], TODAY, snapshot)
    assert found is not None and found.tool_choice == "list_todos"


def test_several_items_merged_into_one_todo_are_re_asked_for_the_rest() -> None:
    request = [_user("add eggs, bread and butter")]
    one = _call("add_todo", {"todo": {"id": "1", "title": "Eggs"}}, title="Eggs")
    found = left_undone("Added Eggs.", request, one, TODAY, None)
    assert found is not None and found.tool_choice == "add_todo"
    assert '"Bread"' in found.note.title() and "Butter" in found.note.title() and "Eggs" not in found.note
    # One todo holding every item is the model's choice; so is a shorter title for a single item.
    whole = _call("add_todo", {"todo": {"id": "1", "title": "Eggs, bread and butter"}}, title="x")
    assert left_undone("Added.", request, whole, TODAY, None) is None
    short = _call("add_todo", {"todo": {"id": "1", "title": "Invoice"}}, title="Invoice")
    assert left_undone("Added.", [_user("add send the invoice to Globex")], short, TODAY, None) is None


def test_all_of_them_said_as_a_deed_is_the_whole_list_too() -> None:
    snapshot = _snapshot(("1", "Hang pictures", False), ("2", "Fix the gate", False))
    one = _call("update_todo", {"todo": {"id": "1", "title": "Hang pictures", "completed": True}}, todo="1")
    found = left_undone("Done.", [_user("I've done all of them")], one, TODAY, snapshot)
    assert found is not None and found.problem == "bulk_left" and '"Fix the gate"' in found.note


def test_an_action_whose_tool_ran_on_another_todo_is_still_undone() -> None:
    request = [_user("scrap the pilates class and tick off the crossword")]
    pilates = {"id": "1", "title": "Pilates class", "completed": True}
    calls = [
        *_call("update_todo", {"todo": pilates}, "c1", todo="Pilates class", completed=True),
        *_call("delete_todo", {"deleted": {"id": "1", "title": "Pilates class"}}, "c2", todo="Pilates class"),
    ]
    found = left_undone("Done.", request, calls, TODAY, None)
    assert found is not None and found.tool_choice == "update_todo" and "crossword" in found.note
    crossword = {"id": "2", "title": "Finish the crossword", "completed": True}
    done = [*calls, *_call("update_todo", {"todo": crossword}, "c3", todo="2", completed=True)]
    assert left_undone("Done.", request, done, TODAY, None) is None
