"""One trace per chat turn, on the offline model: the exact span tree, its links and its key attributes."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest
from opentelemetry.trace import SpanKind

from tests.api.helpers import parse_sse
from tests.telemetry.assertions import assert_db_spans_under, assert_includes, assert_no_content, attributes, one_trace
from tests.telemetry.conftest import SpanRecorder
from tests.telemetry.trace_tree import shape


async def chat(client: httpx.AsyncClient, user: uuid.UUID, auth: dict[str, str], message: str) -> httpx.Response:
    response = await client.post(f"/api/{user}/chat", json={"message": message}, headers=auth)
    assert response.status_code == 200, response.text
    return response


async def test_a_plain_answer(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> None:
    response = await chat(client, alice, alice_auth, "hello")
    body = response.json()

    finished = spans.take()
    assert shape(finished) == [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat offline (CLIENT)",
    ]
    by_name = one_trace(finished, body["trace_id"])
    [server] = by_name["POST /api/{user_id}/chat"]
    [agent] = by_name["invoke_agent todo_assistant"]
    [model] = by_name["chat offline"]

    assert attributes(server)["http.route"] == "/api/{user_id}/chat"
    assert attributes(server)["http.response.status_code"] == 200
    assert attributes(server)["url.path"] == "/api/{user_id}/chat"  # the raw user id stays out of traces
    assert_includes(
        attributes(agent),
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "todo_assistant",
            "gen_ai.request.model": "offline",
            "gen_ai.conversation.id": body["conversation_id"],
            "enduser.id": hashlib.sha256(str(alice).encode()).hexdigest()[:16],
            "todo.using_stub": True,
            "todo.guardrail.user_scope.tripped": False,
            "todo.guardrail.output_scope.tripped": False,
        },
    )
    assert "todo.fallback_reason" not in attributes(agent)
    assert_includes(
        attributes(model),
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "offline",
            "gen_ai.request.model": "offline",
            "gen_ai.response.model": "offline",
            "gen_ai.conversation.id": body["conversation_id"],
            "gen_ai.response.finish_reasons": ("stop",),
        },
    )
    assert attributes(model)["gen_ai.usage.input_tokens"] > 0 and attributes(model)["gen_ai.usage.output_tokens"] > 0
    # The agent's usage is the sum over its model calls (one here).
    assert attributes(agent)["gen_ai.usage.input_tokens"] == attributes(model)["gen_ai.usage.input_tokens"]
    assert_db_spans_under(finished, "invoke_agent todo_assistant")
    assert_no_content(finished)

    # The response names its trace, pointing at the server span.
    assert response.headers["x-trace-id"] == body["trace_id"]
    assert response.headers["traceparent"].split("-")[1:3] == [body["trace_id"], f"{server.context.span_id:016x}"]


async def test_two_tool_calls(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> None:
    created = await client.post(f"/api/{alice}/todos", json={"title": "Buy milk"}, headers=alice_auth)
    assert created.status_code == 201, created.text
    spans.take()

    body = (await chat(client, alice, alice_auth, "I bought the milk")).json()

    finished = spans.take()
    assert shape(finished) == [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat offline (CLIENT)",
        "    execute_tool list_todos (INTERNAL)",
        "    chat offline (CLIENT)",
        "    execute_tool update_todo (INTERNAL)",
        "    chat offline (CLIENT)",
    ]
    by_name = one_trace(finished, body["trace_id"])
    tools = [*by_name["execute_tool list_todos"], *by_name["execute_tool update_todo"]]
    assert [(attributes(t)["gen_ai.tool.name"], attributes(t)["gen_ai.tool.call.id"]) for t in tools] == [
        (call["name"], call["id"]) for call in body["tool_calls"]
    ]
    assert {attributes(t)["gen_ai.operation.name"] for t in tools} == {"execute_tool"}
    finish_reasons = [attributes(m)["gen_ai.response.finish_reasons"] for m in by_name["chat offline"]]
    assert finish_reasons == [("tool_calls",), ("tool_calls",), ("stop",)]
    [agent] = by_name["invoke_agent todo_assistant"]
    assert attributes(agent)["gen_ai.usage.input_tokens"] == sum(
        attributes(m)["gen_ai.usage.input_tokens"] for m in by_name["chat offline"]
    )
    # The tools' own queries nest under them: the list reads, the update writes.
    assert_db_spans_under(finished, "invoke_agent todo_assistant", *(t.name for t in tools))
    [update] = by_name["execute_tool update_todo"]
    under_update = [s for s in finished if s.parent and s.parent.span_id == update.context.span_id]
    assert any(str(attributes(s).get("db.query.text", "")).startswith("UPDATE tasks") for s in under_update)
    assert_no_content(finished)


async def test_each_turn_is_its_own_trace(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> None:
    first = (await chat(client, alice, alice_auth, "hello")).json()
    first_spans = spans.take()
    second = (await chat(client, alice, alice_auth, "show my todos")).json()
    second_spans = spans.take()

    assert first["trace_id"] != second["trace_id"]
    one_trace(first_spans, first["trace_id"])
    one_trace(second_spans, second["trace_id"])


async def test_a_guardrail_trip(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> None:
    body = (await chat(client, alice, alice_auth, "show me the todos of all the other users")).json()
    assert body["guardrail"]["name"] == "user_scope"

    finished = spans.take()
    # Refused before any model call: no model span, no tool span.
    assert shape(finished) == [
        "POST /api/{user_id}/chat (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
    ]
    [agent] = one_trace(finished, body["trace_id"])["invoke_agent todo_assistant"]
    assert attributes(agent)["todo.guardrail.user_scope.tripped"] is True
    assert "todo.guardrail.output_scope.tripped" not in attributes(agent)  # never reached


async def test_a_streamed_turn(
    client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str], spans: SpanRecorder
) -> None:
    response = await client.post(f"/api/{alice}/chat/stream", json={"message": "add buy milk"}, headers=alice_auth)
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)[0]
    done = next(data for name, data in events if name == "done")

    finished = spans.take()
    assert shape(finished) == [
        "POST /api/{user_id}/chat/stream (SERVER)",
        "  invoke_agent todo_assistant (INTERNAL)",
        "    chat offline (CLIENT)",
        "    execute_tool add_todo (INTERNAL)",
        "    chat offline (CLIENT)",
    ]
    by_name = one_trace(finished, done["trace_id"])
    [tool] = by_name["execute_tool add_todo"]
    assert attributes(tool)["gen_ai.tool.call.id"] == done["tool_calls"][0]["id"]
    [agent] = by_name["invoke_agent todo_assistant"]
    assert attributes(agent)["gen_ai.conversation.id"] == done["conversation_id"]
    assert attributes(agent)["todo.using_stub"] is True
    assert all(attributes(m)["gen_ai.usage.output_tokens"] > 0 for m in by_name["chat offline"])
    assert attributes(agent)["gen_ai.usage.output_tokens"] == sum(
        attributes(m)["gen_ai.usage.output_tokens"] for m in by_name["chat offline"]
    )
    assert_db_spans_under(finished, "invoke_agent todo_assistant", "execute_tool add_todo")
    assert response.headers["x-trace-id"] == done["trace_id"]


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), (f"/api/{uuid.uuid4()}/todos", 401)])
async def test_every_response_names_its_trace(
    client: httpx.AsyncClient, spans: SpanRecorder, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    [server] = [s for s in spans.take() if s.kind is SpanKind.SERVER]
    trace_id, span_id, flags = server.context.trace_id, server.context.span_id, server.context.trace_flags
    # `traceresponse` is the W3C name for a response (the official propagator's); `traceparent` as DESIGN §7 has it.
    assert response.headers["traceresponse"] == f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"
    assert response.headers["traceparent"] == response.headers["traceresponse"]
    assert response.headers["x-trace-id"] == f"{trace_id:032x}"
    exposed = {name.strip() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"traceresponse", "traceparent", "x-trace-id"} <= exposed
