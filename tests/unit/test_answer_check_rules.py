"""The answer check's reading of an answer (service/agent/answer_check.py): which actions it claims,
what is markup, and which tool calls of the turn succeeded."""

from __future__ import annotations

import json

import pytest

from service.agent.answer_check import MarkupFilter, claimed, review, strip_markup, succeeded, truthful_answer


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
    assert review("Your list has been updated.", deleted) is None  # vague, and true


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ('<tool_call>{"name": "add_todo", "arguments": {}}</tool_call>', ""),
        ('Done. <tool_response>{"name": "list_todos"}</tool_response>', "Done."),
        ('```json\n{"name": "add_todo", "arguments": {"title": "x"}}\n```', ""),
        ('{"name": "add_todo", "arguments": {"title": "x"}}', ""),
        ("Sure<|im_end|>", "Sure"),
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


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 100])
def test_a_streamed_answer_loses_its_markup_however_it_is_cut(cut: int) -> None:
    text = 'Sure.<tool_call>\n{"name": "add_todo", "arguments": {}}\n</tool_call> Added <b>milk</b>.<|im_end|> a < b'
    stream = MarkupFilter()
    out = "".join(stream.feed(text[i : i + cut]) for i in range(0, len(text), cut)) + stream.flush()
    assert out == "Sure. Added <b>milk</b>. a < b"


def test_an_unclosed_tool_call_at_the_end_of_a_stream_is_dropped() -> None:
    stream = MarkupFilter()
    assert stream.feed('Okay <tool_call>{"name": "list_todos"') + stream.flush() == "Okay "


def test_a_call_and_a_made_up_tool_output_written_into_prose_are_markup() -> None:
    text = (
        '{"name": "delete_todo", "arguments": {"todo": "Buy bread"}} ```\n'
        '{"deleted":{"id":"1351094b","title":"Buy bread"}}\n```'
    )
    assert strip_markup(text) == ""
    assert review(text, []) is not None
    assert strip_markup('Use {"a": 1} as the format.') == 'Use {"a": 1} as the format.'  # not a tool's JSON
