"""openai's request transform is skipped only where it would change nothing (service/agent/chat_requests.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agents.models.chatcmpl_converter import Converter
from openai import omit
from openai.resources.chat.completions import completions
from openai.types.beta import response_create_params

from service.agent import chat_requests
from service.agent.providers import SettingsModelProvider
from service.agent.spec import load_spec
from service.agent.tools import ALL_TOOLS
from service.config import Settings

NON_STREAMING, STREAMING = chat_requests.REQUEST_TYPES


async def original(data: object, request_type: Any) -> object:
    """What openai's own transform makes of `data`."""
    assert chat_requests._original is not None
    return await chat_requests._original(data, request_type)


def body(**overrides: Any) -> dict[str, Any]:
    """A request as `create` builds it from what the Agents SDK passes: every shape of message it sends."""
    tools = [Converter.tool_to_openai(ALL_TOOLS[name]) for name in load_spec().tools]
    messages = [
        {"role": "system", "content": load_spec().instructions},
        {"role": "user", "content": "Current date: Tuesday, 24 November 2026"},
        {"role": "user", "content": [{"type": "text", "text": "add buy milk"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add_todo", "arguments": '{"title": "x"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"todo": {"title": "x", "due_date": null}}'},
        {"role": "assistant", "content": "Added “x”. 🥛"},
    ]
    request = {"model": "qwen", "messages": messages, "tools": tools, "temperature": 0.2, "max_tokens": 512}
    request |= {"stream": omit, "tool_choice": omit, "top_p": omit, "store": omit, "metadata": omit, "seed": None}
    return request | overrides


@pytest.mark.parametrize(
    ("request_type", "overrides"),
    [
        (NON_STREAMING, {}),
        (STREAMING, {"stream": True, "stream_options": {"include_usage": True}}),
        (NON_STREAMING, {"tool_choice": {"type": "function", "function": {"name": "list_todos"}}, "n": 1}),
        (NON_STREAMING, {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}),
    ],
)
async def test_a_plain_request_is_sent_exactly_as_the_transform_would_send_it(
    request_type: Any, overrides: dict[str, Any]
) -> None:
    request = body(**overrides)
    expected = await original(request, request_type)

    sent = await chat_requests.transform_unless_plain(request, request_type)

    assert sent == expected
    assert json.dumps(sent) == json.dumps(expected)  # the same bytes on the wire, key order included


async def test_anything_but_plain_json_goes_through_the_transform() -> None:
    """A generator of messages (an `Iterable` openai accepts) is listed by the transform; json refuses it."""
    request = body()
    request["messages"] = (message for message in body()["messages"])

    sent = await chat_requests.transform_unless_plain(request, NON_STREAMING)

    assert isinstance(sent, dict) and sent["messages"] == body()["messages"]


async def test_other_request_types_keep_the_transform() -> None:
    update = {"metadata": {"k": "v"}, "unused": omit}
    assert await chat_requests.transform_unless_plain(update, dict) == await original(update, dict)


def test_an_aliased_request_type_is_seen() -> None:
    """What makes `install` keep openai's transform: a type whose key the transform renames (`openai-beta`)."""
    assert chat_requests.carries_transforms(response_create_params.ResponseCreateParamsNonStreaming)
    assert not any(chat_requests.carries_transforms(t) for t in chat_requests.REQUEST_TYPES)


def test_the_service_installs_it_with_its_chat_completions_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(completions, chat_requests.TRANSFORM, chat_requests._original)
    settings = Settings(_env_file=None, model_provider="openai-compatible", openai_base_url="http://127.0.0.1:9/v1")

    SettingsModelProvider(settings, load_spec().model)

    assert getattr(completions, chat_requests.TRANSFORM) is chat_requests.transform_unless_plain
    assert chat_requests.install()  # a second install changes nothing
    assert getattr(completions, chat_requests.TRANSFORM) is chat_requests.transform_unless_plain
