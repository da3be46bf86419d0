"""How a reply to a paused turn is read (service/agent/approvals.py): a yes, a no, or a new request that
rejects what is pending. Decided by the service, never by the model."""

from __future__ import annotations

import pytest

from service.agent.approvals import reply_decision


@pytest.mark.parametrize(
    "reply",
    [
        "yes",
        "Yes please!",
        "yes go ahead",
        "sure, delete them please",
        "go ahead",
        "ok",
        "proceed",
        "do it",
        "go on then",
        "ok then",
        "why not",
        "aye",
    ],
)
def test_assent_approves(reply: str) -> None:
    assert reply_decision(reply) is True


@pytest.mark.parametrize(
    "reply",
    [
        "no",
        "no thanks",
        "no, don't",
        "keep them",
        "never mind",
        "cancel",
        "do not",
        "nah leave it actually",
        "leave it",
    ],
)
def test_dissent_rejects(reply: str) -> None:
    assert reply_decision(reply) is False


@pytest.mark.parametrize(
    "reply", ["yes but only the milk", "no, delete the bread", "add milk", "yes, no", "", "go on, delete the milk"]
)
def test_anything_else_is_a_new_request(reply: str) -> None:
    # A half-yes deletes nothing: the pending deletes are rejected and the message is a turn of its own.
    assert reply_decision(reply) is None
