"""Server-side todo references (service/references.py): what a model passes as `todo` picks one of the
user's own todos, asks among several, or names the closest titles; never another user's todo."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from service.db import Database
from service.errors import NotFound
from service.models import Task, utcnow
from service.references import Ambiguous, NoSuchTodo, resolve_todo
from tests.conftest import new_user


async def _seed(database: Database, user_id: uuid.UUID, *titles: str, done: tuple[str, ...] = ()) -> list[Task]:
    start = utcnow()
    tasks = [
        Task(user_id=user_id, title=title, completed=title in done, created_at=start + timedelta(seconds=i))
        for i, title in enumerate(titles)
    ]
    async with database.session() as db:
        db.add_all(tasks)
        await db.commit()
    return tasks


@pytest.fixture
async def bob(database: Database) -> uuid.UUID:
    return await new_user(database)


async def _resolve(database: Database, user_id: uuid.UUID, reference: str, **kwargs: Any) -> str:
    async with database.session() as db:
        return (await resolve_todo(db, user_id, reference, **kwargs)).title


@pytest.mark.parametrize(
    ("reference", "title"),
    [
        ("Call mom", "Call mom"),  # the exact title
        ("  call MOM ", "Call mom"),  # case and spacing
        ("milk", "Buy milk"),  # words of it
        ("the milk one", "Buy milk"),
        ("eggs", "Buy eggs"),  # a plural and a stem
        ("dentist appointment", "Book dentist appointment"),
        ("mlik", "Buy milk"),  # a swapped-letter typo
        ("2", "Buy eggs"),  # a position, as in the snapshot
        ("#3", "Call mom"),
        ("number 1", "Buy milk"),
        ("last", "Book dentist appointment"),
        ("the second one", "Buy eggs"),
        ("first", "Buy milk"),
    ],
)
async def test_a_reference_picks_one_of_the_users_todos(
    database: Database, user_id: uuid.UUID, reference: str, title: str
) -> None:
    await _seed(database, user_id, "Buy milk", "Buy eggs", "Call mom", "Book dentist appointment")
    assert await _resolve(database, user_id, reference) == title


async def test_an_id_resolves_only_to_the_users_own_todo(
    database: Database, user_id: uuid.UUID, bob: uuid.UUID
) -> None:
    mine = (await _seed(database, user_id, "Buy milk"))[0]
    bobs = (await _seed(database, bob, "Buy milk"))[0]
    assert await _resolve(database, user_id, str(mine.id)) == "Buy milk"
    with pytest.raises(NotFound):  # exactly as for an id that does not exist
        await _resolve(database, user_id, str(bobs.id))


async def test_another_users_identical_title_is_never_matched(
    database: Database, user_id: uuid.UUID, bob: uuid.UUID
) -> None:
    await _seed(database, bob, "Walk the dog", "Pay rent")
    await _seed(database, user_id, "Walk the dog")
    async with database.session() as db:
        task = await resolve_todo(db, user_id, "walk the dog")
    assert task.user_id == user_id  # one match, not ambiguous with Bob's
    with pytest.raises(NoSuchTodo) as missing:
        await _resolve(database, user_id, "pay rent")
    assert missing.value.closest == ["Walk the dog"]  # the closest titles are the user's own
    with pytest.raises(NoSuchTodo):
        await _resolve(database, user_id, "2")  # Bob's list does not count for positions


async def test_several_equally_good_matches_are_ambiguous_with_candidates(
    database: Database, user_id: uuid.UUID
) -> None:
    await _seed(database, user_id, "Call mom", "Call dad", "Buy milk")
    with pytest.raises(Ambiguous) as ambiguous:
        await _resolve(database, user_id, "call")
    assert ambiguous.value.code == "ambiguous"
    assert [c["title"] for c in ambiguous.value.candidates] == ["Call mom", "Call dad"]


async def test_a_title_that_is_exactly_the_words_beats_longer_ones(database: Database, user_id: uuid.UUID) -> None:
    await _seed(database, user_id, "Buy milk", "Buy milk for grandma")
    assert await _resolve(database, user_id, "buy milk") == "Buy milk"
    with pytest.raises(Ambiguous):
        await _resolve(database, user_id, "milk")  # "milk" is in both, and neither is just "milk"


async def test_a_tie_prefers_the_todo_the_change_applies_to(database: Database, user_id: uuid.UUID) -> None:
    await _seed(database, user_id, "Water plants", done=("Water plants",))
    await _seed(database, user_id, "Water plants")
    async with database.session() as db:
        open_one = await resolve_todo(db, user_id, "water plants", prefer_completed=False)
        with pytest.raises(Ambiguous):
            await resolve_todo(db, user_id, "water plants")
    assert open_one.completed is False


@pytest.mark.parametrize("reference", ["gym", "7", "#0", "", "   "])
async def test_nothing_matching_is_not_found_with_the_closest_titles(
    database: Database, user_id: uuid.UUID, reference: str
) -> None:
    await _seed(database, user_id, "Buy milk", "Go to the gym class")
    if reference == "gym":
        assert await _resolve(database, user_id, reference) == "Go to the gym class"
        reference = "swimming pool"
    with pytest.raises(NoSuchTodo) as missing:
        await _resolve(database, user_id, reference)
    assert missing.value.code == "not_found"


async def test_not_found_names_the_closest_titles(database: Database, user_id: uuid.UUID) -> None:
    await _seed(database, user_id, "Buy milk", "Call the bank", "Renew passport")
    with pytest.raises(NoSuchTodo) as missing:
        await _resolve(database, user_id, "Buy milk and eggs")
    assert missing.value.closest[0] == "Buy milk"
    assert "Buy milk" in missing.value.message


async def test_an_empty_list_says_so(database: Database, user_id: uuid.UUID) -> None:
    with pytest.raises(NoSuchTodo) as missing:
        await _resolve(database, user_id, "milk")
    assert missing.value.closest == [] and "empty" in missing.value.message


@pytest.mark.parametrize(
    ("said", "reference", "title"),
    [
        ("mark buy milk as done", "Buy milk", "Buy milk"),  # the user named it as precisely
        ("mark it done", "Call mom", "Call mom"),  # named another way: the model's reading stands
        ("the second one is done", "2", "Call dad"),  # a position is no guess at a title
        ("number 1 is done", "1", "Call mom"),  # the user said the position
        ("mark buy milk done", "3", "Buy milk"),  # the position the model read names what the user said
        ("I rang her", "1", "Call mom"),  # named another way: the model's reading stands
        ("I rang mom", "Call mom", "Call mom"),  # the user's words fit one todo
        ("done with the mom call", "Call mom", "Call mom"),
    ],
)
async def test_a_models_title_stands_when_the_users_words_single_it_out(
    database: Database, user_id: uuid.UUID, said: str, reference: str, title: str
) -> None:
    await _seed(database, user_id, "Call mom", "Call dad", "Buy milk")
    assert await _resolve(database, user_id, reference, said=said) == title


@pytest.mark.parametrize(
    ("said", "reference"),
    [
        ("mark the call as done", "Call mom"),  # "call" fits both calls: the model guessed mom
        ("delete the call todo", "Call dad"),
        ("mark the call as done", "1"),  # a position the user never said, read off the snapshot: a guess too
        ("delete the call todo", "#2"),
    ],
)
async def test_a_models_title_more_precise_than_the_users_words_is_ambiguous(
    database: Database, user_id: uuid.UUID, said: str, reference: str
) -> None:
    await _seed(database, user_id, "Call mom", "Call dad", "Buy milk")
    with pytest.raises(Ambiguous) as raised:
        await _resolve(database, user_id, reference, said=said)
    assert sorted(c["title"] for c in raised.value.candidates) == ["Call dad", "Call mom"]


async def test_the_users_words_that_fit_one_open_todo_are_no_guess_when_completing(
    database: Database, user_id: uuid.UUID
) -> None:
    # "the call" fits two todos, but only one is open: marking done means that one.
    await _seed(database, user_id, "Call mom", "Call dad", done=("Call dad",))
    assert await _resolve(database, user_id, "Call mom", said="mark the call as done", prefer_completed=False) == (
        "Call mom"
    )


async def test_the_users_words_are_matched_among_their_own_todos_only(
    database: Database, user_id: uuid.UUID, bob: uuid.UUID
) -> None:
    await _seed(database, bob, "Call dad")  # Bob's lookalike never makes Alice's request ambiguous
    await _seed(database, user_id, "Call mom")
    assert await _resolve(database, user_id, "Call mom", said="mark the call as done") == "Call mom"
