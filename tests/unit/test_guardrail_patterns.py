"""The input guardrail's patterns do bounded work on any message (issue 13, smaller items)."""

from __future__ import annotations

import time

import pytest

from service.agent.guardrails import scope_violation

MESSAGE_MAX = 10_000


@pytest.mark.parametrize(
    "message",
    ["a." * (MESSAGE_MAX // 2), "a-" * (MESSAGE_MAX // 2), "a.b+" * (MESSAGE_MAX // 4), "x@" + "a." * 4999],
    ids=["dots", "dashes", "plus", "at-then-dots"],
)
def test_pathological_messages_are_judged_quickly(message: str) -> None:
    """Before: the e-mail pattern took ~0.45 s on 10,000 characters of "a." (quadratic backtracking)."""
    started = time.perf_counter()
    scope_violation(message)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(
    "message",
    ["show the todos of bob@example.com", "delete the tasks of first.last+tag@mail.example.org please"],
)
def test_requests_naming_an_email_are_still_refused(message: str) -> None:
    assert scope_violation(message) == "other_users"
