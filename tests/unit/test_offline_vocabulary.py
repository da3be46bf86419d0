"""The offline model's vocabulary (service/agent/offline/vocabulary.toml): one table per intent, each
word of it recognised by the reader of that intent, and no table that nothing reads."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from service.agent.offline.intents import AddIntent, BulkIntent, ChangeIntent, ContextIntent, Intent, UndoIntent
from service.agent.offline.reading import parse_intent
from service.agent.offline.vocabulary import TABLES, VERBS

TODAY = date(2026, 11, 24)
PACKAGE = Path(__file__).parents[2] / "service" / "agent" / "offline"


def _action(intent: Intent) -> str | None:
    return intent.action if isinstance(intent, ChangeIntent | BulkIntent) else None


def test_every_table_and_list_is_read_by_the_package() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.glob("*.py"))
    for intent, table in TABLES.items():
        assert re.search(rf"[\"']{intent}[\"']", code), f"nothing reads the [{intent}] table"
        for kind in table:
            if kind != "verbs":  # read through VERBS
                assert re.search(rf"[\"']{kind}[\"']", code), f"nothing reads [{intent}] {kind}"


def test_word_lists_are_lower_case_without_repeats() -> None:
    for intent, table in TABLES.items():
        for kind, words in table.items():
            if kind == "weekdays":
                continue
            assert len(set(words)) == len(words), f"[{intent}] {kind} repeats a word"
            assert all(word == word.lower() for word in words if "\\" not in word), f"[{intent}] {kind} has capitals"


@pytest.mark.parametrize(("intent", "verb"), [(i, v) for i in ("complete", "reopen", "delete") for v in VERBS[i]])
def test_every_state_command_changes_its_todo(intent: str, verb: str) -> None:
    assert _action(parse_intent(f"{verb} the milk", TODAY)) == intent


@pytest.mark.parametrize("verb", VERBS["mark"])
def test_every_mark_verb_marks_done_and_not_done(verb: str) -> None:
    assert _action(parse_intent(f"{verb} the milk as done", TODAY)) == "complete"
    assert _action(parse_intent(f"{verb} the milk as not done", TODAY)) == "reopen"


@pytest.mark.parametrize("state", TABLES["complete"]["states"])
def test_every_done_state_completes(state: str) -> None:
    assert _action(parse_intent(f"mark the milk as {state}", TODAY)) == "complete"


@pytest.mark.parametrize("state", TABLES["reopen"]["states"])
def test_every_open_state_reopens(state: str) -> None:
    assert _action(parse_intent(f"mark the milk as {state}", TODAY)) == "reopen"


@pytest.mark.parametrize("verb", VERBS["rename"])
def test_every_rename_verb_renames(verb: str) -> None:
    assert _action(parse_intent(f"{verb} milk to oat milk", TODAY)) == "rename"


@pytest.mark.parametrize("verb", VERBS["due"])
def test_every_due_verb_moves_the_date(verb: str) -> None:
    intent = parse_intent(f"{verb} the milk to friday", TODAY)
    assert isinstance(intent, ChangeIntent) and (intent.action, intent.choices[0].value) == ("due", "2026-11-27")


@pytest.mark.parametrize("verb", VERBS["add"])
def test_every_add_verb_adds(verb: str) -> None:
    intent = parse_intent(f"{verb} pay the rent", TODAY)
    assert isinstance(intent, AddIntent) and intent.todos[0].title == "Pay the rent"


@pytest.mark.parametrize("verb", VERBS["undo"])
def test_every_undo_verb_undoes(verb: str) -> None:
    assert parse_intent(verb, TODAY) == UndoIntent()


@pytest.mark.parametrize("topic", ["name", "timezone", "preferences", "date"])
def test_each_profile_topic_is_its_own_answer(topic: str) -> None:
    question = {"name": "who am i?", "timezone": "which time zone am I in?", "preferences": "what are my preferences?",
                "date": "what day is it today?"}[topic]  # fmt: skip
    assert parse_intent(question, TODAY) == ContextIntent(topic)  # type: ignore[arg-type]
