"""The checker the reliability tests rely on must itself catch each kind of broken history.

`split_turns` passing on the service's data only means something if it fails on an orphan row,
a call without its output, a turn without its answer, and two turns interleaved.
"""

from __future__ import annotations

import uuid

import pytest

from service.models import AgentMessage
from tests.reliability.turns import split_turns

CONVERSATION = uuid.uuid4()


def _user(text: str) -> AgentMessage:
    return AgentMessage(
        session_id=CONVERSATION, user_id=CONVERSATION, role="user", kind="message", content=text, item={}
    )


def _answer() -> AgentMessage:
    return AgentMessage(session_id=CONVERSATION, user_id=CONVERSATION, role="assistant", kind="message", item={})


def _call(call_id: str) -> AgentMessage:
    return AgentMessage(
        session_id=CONVERSATION, user_id=CONVERSATION, role="assistant", kind="function_call", call_id=call_id, item={}
    )


def _output(call_id: str) -> AgentMessage:
    return AgentMessage(
        session_id=CONVERSATION,
        user_id=CONVERSATION,
        role="tool",
        kind="function_call_output",
        call_id=call_id,
        item={},
    )


def test_whole_turns_pass() -> None:
    rows = [_user("a"), _call("1"), _output("1"), _answer(), _user("b"), _answer()]
    assert [t.user_message for t in split_turns(CONVERSATION, rows)] == ["a", "b"]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([_output("1"), _user("a"), _answer()], id="orphan row before the first turn"),
        pytest.param([_user("a"), _call("1"), _answer()], id="call without its output"),
        pytest.param([_user("a"), _output("1"), _answer()], id="output without its call"),
        pytest.param([_user("a"), _call("1"), _output("1")], id="turn without its answer"),
        pytest.param([_user("a"), _user("b"), _answer(), _answer()], id="two turns interleaved"),
        pytest.param([_user("a"), _call("1"), _user("b"), _output("1"), _answer()], id="a turn inside another"),
    ],
)
def test_broken_histories_fail(rows: list[AgentMessage]) -> None:
    with pytest.raises(AssertionError):
        split_turns(CONVERSATION, rows)
