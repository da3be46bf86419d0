"""Turns on an OpenAI-compatible provider over real HTTP: the instrumentation's model spans, and the fallback."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tests.api.conftest import fake_provider_settings as settings  # noqa: F401  (the model is `fake`)
from tests.api.helpers import chat, parse_sse
from tests.fake_llm import ErrorReply, FakeLLM, TextReply, ToolCallReply
from tests.telemetry.assertions import assert_includes, assert_no_content, attributes, one_trace
from tests.telemetry.conftest import SpanRecorder
from tests.telemetry.trace_tree import shape

AlicesTurn = Callable[[str], Awaitable[tuple[dict[str, Any], list[ReadableSpan]]]]


def one_tool_turn(tool: str) -> list[str]:
    """The span tree of a chat turn whose model calls `tool` once, then answers."""
    return [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat fake-model (CLIENT)",
        f"    execute_tool {tool} (INTERNAL)",
        "    chat fake-model (CLIENT)",
    ]


@pytest.fixture
def alices_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> AlicesTurn:
    """`await alices_turn(message)`: a turn of Alice's through `POST /chat` that must succeed; its body and the
    spans of that request alone, not of any set-up before it."""

    async def turn(message: str) -> tuple[dict[str, Any], list[ReadableSpan]]:
        spans.take()
        body = await chat(client, alice, alice_auth, message)
        return body, spans.take()

    return turn


async def test_provider_model_calls(alices_turn: AlicesTurn, fake: FakeLLM) -> None:
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), TextReply("Added Buy milk.")]
    body, finished = await alices_turn("add buy milk")

    assert shape(finished) == one_tool_turn("add_todo")
    by_name = one_trace(finished, str(body["trace_id"]))
    [agent] = by_name["invoke_agent todo_assistant"]
    models = by_name["chat fake-model"]
    for model in models:
        # The OpenAI instrumentation's span, given the conversation id by the agent span around it.
        assert_includes(
            attributes(model),
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "fake-model",
                "gen_ai.conversation.id": body["conversation_id"],
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
                "server.address": "127.0.0.1",
            },
        )
    assert_includes(
        attributes(agent),
        {
            "gen_ai.request.model": "fake-model",
            "gen_ai.usage.input_tokens": 20,
            "gen_ai.usage.output_tokens": 10,
            "todo.using_stub": False,
        },
    )
    assert "todo.fallback_reason" not in attributes(agent)
    assert_no_content(finished)


async def test_a_provider_failure_with_fallback(
    alices_turn: AlicesTurn, fake: FakeLLM, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), ErrorReply(500)]
    body, finished = await alices_turn("add buy milk")
    assert body["using_stub"] is True

    assert shape(finished) == [*one_tool_turn("add_todo"), "    chat offline (CLIENT)"]  # the fallback's
    by_name = one_trace(finished, str(body["trace_id"]))
    ok, failed = by_name["chat fake-model"]
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert attributes(failed)["error.type"] == "openai.InternalServerError"
    [offline] = by_name["chat offline"]
    assert attributes(offline)["gen_ai.conversation.id"] == body["conversation_id"]
    [agent] = by_name["invoke_agent todo_assistant"]
    assert attributes(agent)["todo.using_stub"] is True
    assert attributes(agent)["todo.fallback_reason"] == "http_500"
    # The turn itself succeeded: only the failed model call is an error.
    assert agent.status.status_code is StatusCode.UNSET and "error.type" not in attributes(agent)
    # The fallback's log line leads to this trace.
    [warning] = [line for line in capsys.readouterr().err.splitlines() if "model provider failed" in line]
    assert f"[trace_id={body['trace_id']} " in warning


async def test_a_provider_error_without_fallback_fails_the_turn_span(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, spans: SpanRecorder
) -> None:
    fake.replies = [ErrorReply(400)]
    response = await client.post(f"/api/{alice}/chat", json={"message": "add milk"}, headers=alice_auth)
    assert response.status_code == 503

    finished = spans.take()
    assert shape(finished) == [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat fake-model (CLIENT)",
    ]
    by_name = one_trace(finished, response.headers["x-trace-id"])
    [model] = by_name["chat fake-model"]
    [agent] = by_name["invoke_agent todo_assistant"]
    [server] = by_name["POST /api/{user_id}/chat"]
    assert attributes(model)["error.type"] == "openai.BadRequestError"
    assert attributes(agent)["error.type"] == "service.errors.ModelUnavailable"
    assert agent.status.status_code is StatusCode.ERROR
    assert attributes(server)["http.response.status_code"] == 503
    assert server.status.status_code is StatusCode.ERROR and server.kind is SpanKind.SERVER


async def test_a_tool_guardrail_trip(alices_turn: AlicesTurn, bobs_todo: dict[str, Any], fake: FakeLLM) -> None:
    fake.replies = [
        ToolCallReply("update_todo", {"todo": bobs_todo["id"], "completed": True}),
        TextReply("I could not find that todo."),
    ]
    body, finished = await alices_turn("tick off the first one")

    assert shape(finished) == one_tool_turn("update_todo")
    [agent] = one_trace(finished, str(body["trace_id"]))["invoke_agent todo_assistant"]
    assert attributes(agent)["todo.guardrail.tool_ownership.tripped"] is True
    assert attributes(agent)["todo.guardrail.user_scope.tripped"] is False


async def test_a_streamed_provider_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], fake: FakeLLM, spans: SpanRecorder
) -> None:
    fake.replies = [TextReply("Hello there, what shall I add?")]
    response = await client.post(f"/api/{alice}/chat/stream", json={"message": "hi"}, headers=alice_auth)
    done = next(data for name, data in parse_sse(response.text)[0] if name == "done")

    finished = spans.take()
    assert shape(finished) == [
        "POST /api/{user_id}/chat/stream (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat fake-model (CLIENT)",
    ]
    [model] = one_trace(finished, done["trace_id"])["chat fake-model"]
    assert attributes(model)["gen_ai.usage.output_tokens"] == 5
    assert attributes(model)["gen_ai.conversation.id"] == done["conversation_id"]


async def test_an_output_guardrail_trip(alices_turn: AlicesTurn, bobs_todo: dict[str, Any], fake: FakeLLM) -> None:
    fake.replies = [TextReply(f'You have one todo: "{bobs_todo["title"]}".')]
    body, finished = await alices_turn("what is on my list?")
    assert body["guardrail"] == {"name": "output_scope", "message": body["response"]}

    assert shape(finished) == [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat fake-model (CLIENT)",
    ]
    [agent] = one_trace(finished, str(body["trace_id"]))["invoke_agent todo_assistant"]
    assert attributes(agent)["todo.guardrail.output_scope.tripped"] is True
    assert attributes(agent)["todo.guardrail.user_scope.tripped"] is False
    assert agent.status.status_code is StatusCode.UNSET  # a refusal is an answer, not an error
