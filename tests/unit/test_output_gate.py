"""How much of a streamed answer the output gate may release before the rest has arrived."""

from __future__ import annotations

import pytest

from service.agent.guardrails import releasable


@pytest.mark.parametrize(
    ("pending", "released"),
    [
        ("You have 2 ", "You have 2 "),
        ("Hello there", "Hello "),  # a word still being written may be the start of a name
        ('Added "Buy milk', "Added "),  # an open quotation is judged once it closes
        ('Added "Buy milk and eggs". Then ', 'Added "Buy milk and eggs". Then '),
        ("don't forget ", "don't forget "),  # an apostrophe is no quotation
        ("1. Buy milk", ""),  # a list line is a title: judged whole
        ("1. Buy milk\n2", "1. Buy milk\n"),
        ("12", ""),  # may still become "12. Title"
        ("- Call mom", ""),
        ("Done.\nNext ", "Done.\nNext "),
    ],
)
def test_releasable_never_cuts_through_a_name(pending: str, released: str) -> None:
    assert pending[: releasable(pending)] == released
