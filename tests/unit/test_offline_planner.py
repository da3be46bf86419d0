"""The offline model's planner (service/agent/offline/planner.py): list before changing, every action
of a message in one response, answers from the tools' outputs, only the tools it was given."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from service.agent.offline.conversation import Conversation, PastCall, Turn
from service.agent.offline.planner import plan_next

TODAY = date(2026, 11, 24)
TOOLS = frozenset({"list_todos", "add_todo", "update_todo", "delete_todo", "undo_last_turn"})
LISTED: dict[str, Any] = {
    "todos": [
        {"id": "a", "title": "Yoga class", "completed": False},
        {"id": "b", "title": "Read the novel", "completed": False},
        {"id": "c", "title": "Buy stamps", "completed": True},
    ],
    "pagination": {"limit": 50, "offset": 0, "total": 3, "has_more": False},
}


def _plan(message: str, *calls: PastCall, tools: frozenset[str] = TOOLS) -> Any:
    return plan_next(Conversation(TODAY, tools, (Turn(message, calls=list(calls)),)))


def _listed() -> PastCall:
    return PastCall("l1", "list_todos", {"completed": None}, LISTED)


def test_a_change_lists_first() -> None:
    plan = _plan("drop the yoga class and tick off the novel")
    assert [(call.name, call.arguments["completed"]) for call in plan.calls] == [("list_todos", None)]


def test_several_actions_are_planned_in_one_response() -> None:
    plan = _plan("drop the yoga class and tick off the novel, and add buy a mat", _listed())
    assert [(call.name, call.arguments.get("todo")) for call in plan.calls] == [
        ("delete_todo", "a"),
        ("update_todo", "b"),
        ("add_todo", None),
    ]
    assert plan.calls[1].arguments["completed"] is True and plan.calls[2].arguments["title"] == "Buy a mat"


def test_an_unclear_action_is_said_and_the_others_still_run() -> None:
    plan = _plan("drop the yoga class and tick off the dentist", _listed())
    assert [call.name for call in plan.calls] == ["delete_todo"]


def test_the_answer_comes_from_every_output() -> None:
    deleted = PastCall("d1", "delete_todo", {"todo": "a"}, {"deleted": LISTED["todos"][0]})
    done = {**LISTED["todos"][1], "completed": True}
    updated = PastCall("u1", "update_todo", {"todo": "b", "completed": True}, {"todo": done})
    plan = _plan("drop the yoga class and tick off the novel", _listed(), deleted, updated)
    assert plan.calls == ()
    assert plan.answer == 'Deleted "Yoga class". Marked "Read the novel" as done.'


def test_everything_at_once_lists_what_it_changes_and_makes_one_call_per_todo_in_one_response() -> None:
    plan = _plan("tick everything off")
    assert [(call.name, call.arguments["completed"]) for call in plan.calls] == [("list_todos", False)]
    open_todos = {**LISTED, "todos": LISTED["todos"][:2]}
    plan = _plan("tick everything off", PastCall("l1", "list_todos", {"completed": False}, open_todos))
    assert [(call.name, call.arguments["todo"]) for call in plan.calls] == [("update_todo", "a"), ("update_todo", "b")]


def test_a_tool_it_was_not_given_is_not_called() -> None:
    plan = _plan("add buy milk", tools=TOOLS - {"add_todo"})
    assert plan.calls == () and "add_todo" in plan.answer


def test_tool_arguments_are_json() -> None:
    plan = _plan("add pay rent tomorrow")
    assert json.loads(json.dumps(plan.calls[0].arguments)) == {
        "title": "Pay rent",
        "description": None,
        "due_date": "2026-11-25",
    }


GROUPED: dict[str, Any] = {
    "todos": [
        {"id": "a", "title": "Order cake for the party", "completed": False, "due_date": "2026-11-20"},
        {"id": "b", "title": "Send party invitations", "completed": True, "due_date": None},
        {"id": "c", "title": "Pay rent", "completed": False, "due_date": "2026-11-23"},
        {"id": "d", "title": "Renew passport", "completed": False, "due_date": "2026-12-10"},
    ],
    "pagination": {"limit": 50, "offset": 0, "total": 4, "has_more": False},
}


def _grouped(message: str) -> list[tuple[str, Any, Any]]:
    plan = _plan(message, PastCall("l1", "list_todos", {"completed": None}, GROUPED))
    return [
        (c.name, c.arguments["todo"], c.arguments.get("due_date") or c.arguments.get("completed")) for c in plan.calls
    ]


GROUPS: dict[str, tuple[str, object]] = {  # a message, the todos it changes and their new value
    "delete everything to do with the party, it got cancelled": ("ab", None),
    "push everything that's overdue to friday": ("ac", "2026-11-27"),
    "move all my open tasks to the first of december": ("acd", "2026-12-01"),
    "mark all the party stuff as done": ("a", True),
    "delete the party stuff": ("ab", None),  # no "all"
    "delete both the done ones": ("b", None),
    "what's overdue? push those to friday": ("ac", "2026-11-27"),  # "those" after a question: the todos it shows
    "push everything to friday": ("acd", "2026-11-27"),  # no bulk change moves dates: every open todo
    "push everything due today to friday": ("ac", "2026-11-27"),  # due today or before, not every todo
}


def test_a_group_named_by_what_its_todos_are_about_status_or_dates_is_acted_on_whole() -> None:
    """ "everything to do with the party" means the todos a list question about it would show, never the list."""
    for message, (changed, value) in GROUPS.items():
        tool = "delete_todo" if message.startswith("delete") else "update_todo"
        assert _grouped(message) == [(tool, todo, value) for todo in changed], message


def test_a_group_with_no_todo_in_it_changes_nothing_and_says_so() -> None:
    plan = _plan("delete everything about the wedding", PastCall("l1", "list_todos", {"completed": None}, GROUPED))
    assert plan.calls == () and plan.answer == 'Nothing on your list mentions "the wedding".'


def test_the_one_named_by_its_date_or_topic_is_that_todo_and_two_such_are_asked_about() -> None:
    assert _grouped("the one about the passport is done") == [("update_todo", "d", True)]
    assert _grouped("the one due 10 december is done") == [("update_todo", "d", True)]
    plan = _plan("delete the one about the party", PastCall("l1", "list_todos", {"completed": None}, GROUPED))
    assert plan.calls == () and "Order cake for the party" in plan.answer and "Send party invitations" in plan.answer
