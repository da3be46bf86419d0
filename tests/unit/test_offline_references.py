"""The offline model's references (service/agent/offline/references.py): which todos "the milk", "the
second one", "the last two" and "it" mean in the list the tools returned; unclear ones ask."""

from __future__ import annotations

from service.agent.offline.conversation import Todo
from service.agent.offline.intents import ChangeIntent, Choice
from service.agent.offline.references import RefContext, choose, mentioned, resolve

TODOS = (
    Todo("1", "Buy milk"),
    Todo("2", "Call mom", completed=True),
    Todo("3", "Pay the gas bill"),
    Todo("4", "Buy oat milk"),
)


NOTHING_SAID = RefContext()


def _titles(text: str, refs: RefContext = NOTHING_SAID) -> list[str]:
    return [todo.title for todo in resolve(text, TODOS, refs, "complete").todos]


def test_words_of_a_title_pick_it_and_the_exact_title_wins() -> None:
    assert _titles("the gas bill") == ["Pay the gas bill"]
    assert _titles("buy milk") == ["Buy milk"]


def test_several_equally_good_matches_ask_which_and_pick_none() -> None:
    found = resolve("milk", (TODOS[0], TODOS[3], Todo("5", "Milk chocolate")), NOTHING_SAID, "delete")
    assert found.todos == () and found.problem and "which one" in found.problem


def test_no_match_says_what_the_list_has() -> None:
    found = resolve("the dentist", TODOS, NOTHING_SAID, "delete")
    assert found.todos == () and found.problem and '"Buy milk"' in found.problem


def test_places_count_in_the_list_the_user_was_shown() -> None:
    shown = RefContext(shown=(TODOS[2], TODOS[0]))
    assert _titles("the second one", shown) == ["Buy milk"]
    assert _titles("#1", shown) == ["Pay the gas bill"]
    assert _titles("the last two") == ["Pay the gas bill", "Buy oat milk"]
    assert "no" in (resolve("the 9th one", TODOS, NOTHING_SAID, "delete").problem or "").lower()


def test_it_means_what_the_last_turn_was_about() -> None:
    assert _titles("it", RefContext(recent=(TODOS[2],))) == ["Pay the gas bill"]
    assert "which" in (resolve("it", TODOS, NOTHING_SAID, "delete").problem or "").lower()


def test_a_statement_names_its_todo_in_other_words() -> None:
    intent = ChangeIntent("complete", (Choice("got hold of the gas people about the bill"),), tentative=True)
    _, found = choose(intent, TODOS, RefContext())
    assert [todo.title for todo in found.todos] == ["Pay the gas bill"]
    assert mentioned("we went to the cinema", TODOS) is None
