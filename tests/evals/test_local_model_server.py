"""The recording endpoint's own logic (evals/local_model/server.py), without the model: turning the model's
text into `tool_calls`, rendering a chat template as transformers does, and answering over real HTTP in
a shape the OpenAI client parses. The model itself is only loaded by `make record-local`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import openai
import pytest

from evals.local_model.server import (
    BadRequest,
    ChatTemplate,
    completion_body,
    forced_opening,
    is_noise,
    is_stuck,
    make_handler,
    parse_reply,
)

TOOLS = {"add_todo", "list_todos", "update_todo"}


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "add_todo", "arguments": {"title": "buy milk"}}\n</tool_call>',
        '<tool_call>\n{{"name": "add_todo", "arguments": {"title": "buy milk"}}}\n</tool_call>',
        '<tool_call>\n{"name": "add_todo", "arguments": {"title": "buy milk"}}',  # cut before the closing tag
        '```json\n{"name": "add_todo", "arguments": {"title": "buy milk"}}\n```',
        'functions.add_todo:{"title": "buy milk"}',
        '{"name": "add_todo", "parameters": {"title": "buy milk"}}',
        '<function name="add_todo" arguments=\'{"title": "buy milk"}\'/>',
        '<function=add_todo>{"title": "buy milk"}</function>',
    ],
    ids=[
        "tag",
        "double-braces",
        "unclosed-tag",
        "fenced",
        "functions-prefix",
        "bare-json",
        "function-attr",
        "function-eq",
    ],
)
def test_every_tool_call_form_the_model_writes_becomes_a_call(text: str) -> None:
    assert parse_reply(text, TOOLS) == (None, [{"name": "add_todo", "arguments": {"title": "buy milk"}}])


def test_text_around_calls_is_the_answer_and_several_calls_are_kept_in_order() -> None:
    text = (
        "Adding both.\n<tool_call>\n"
        '{"name": "add_todo", "arguments": {"title": "eggs"}}\n</tool_call>\n<tool_call>\n'
        '{"name": "add_todo", "arguments": "{\\"title\\": \\"bread\\"}"}\n</tool_call>'
    )
    answer, calls = parse_reply(text, TOOLS)
    assert answer == "Adding both."
    assert [c["arguments"]["title"] for c in calls] == ["eggs", "bread"]


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"name": "delete_everything", "arguments": {}}\n```',  # not a tool of the request
        'Here is the format: ```json\n{"title": "buy milk"}\n```',  # JSON, but not a call
        "You have 2 todos: buy milk and call mom.",
    ],
)
def test_text_that_is_not_a_call_to_a_requested_tool_stays_text(text: str) -> None:
    answer, calls = parse_reply(text, TOOLS)
    assert calls == [] and answer == text


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "add_todo", "arguments": {"title": "buy milk"}}}\n</tool_call>',
        '{"name": "add_todo", "arguments": {"title": "buy milk"}}}',
        '{"name": "add_todo", "arguments": {"title": "buy milk"}}{}} {}} {}}\n{}}',
        '<tool_response>\n{"name": "add_todo", "arguments": {"title": "buy milk"}}\n</tool_response>',
    ],
    ids=["extra-brace-in-tag", "extra-brace-bare", "brace-noise-after", "call-in-response-tags"],
)
def test_format_slips_around_a_real_call_are_repaired(text: str) -> None:
    assert parse_reply(text, TOOLS) == (None, [{"name": "add_todo", "arguments": {"title": "buy milk"}}])


def test_bare_calls_one_after_another_are_each_a_call_and_prose_after_them_is_the_answer() -> None:
    two = '{"name": "add_todo", "arguments": {"title": "eggs"}}\n{"name": "add_todo", "arguments": {"title": "bread"}}'
    answer, calls = parse_reply(two, TOOLS)
    assert answer is None and [c["arguments"]["title"] for c in calls] == ["eggs", "bread"]
    assert parse_reply(f"<tools>\n{two}\n</tools>", TOOLS) == (None, calls)  # the tool list's tags, copied
    doubled = '{{"name": "add_todo", "arguments": {"title": "eggs"}}}'  # the template's braces, copied
    assert parse_reply(doubled, TOOLS) == (None, calls[:1])
    assert parse_reply(two + "\nShall I add more?", TOOLS) == ("Shall I add more?", calls)
    shown = "You could write " + two  # prose first: the JSON is an example, not a call
    assert parse_reply(shown, TOOLS) == (shown, [])


def test_a_fenced_example_inside_prose_is_not_executed() -> None:
    text = 'I can add it like this:\n```json\n{"name": "add_todo", "arguments": {"title": "buy milk"}}\n```\nShall I?'
    answer, calls = parse_reply(text, TOOLS)
    assert calls == [] and answer == text


@pytest.mark.parametrize(
    "text",
    [
        '<tool_response>\n{"name": "list_todos", "content": {"todos": []}}\n</tool_response>',
        "<|im_start|>assistant\n<|im_end|>",
        "",
        "   \n",
    ],
    ids=["echoed-tool-result", "template-tokens", "empty", "blank"],
)
def test_markup_alone_or_an_empty_completion_is_no_answer(text: str) -> None:
    assert parse_reply(text, TOOLS) == (None, [])


def test_markup_around_an_answer_is_removed() -> None:
    text = 'You have 1 todo: buy milk.<tool_response>{"name": "list_todos"}</tool_response><|im_end|>'
    assert parse_reply(text, TOOLS) == ("You have 1 todo: buy milk.", [])


def test_without_tools_nothing_is_parsed_as_a_call() -> None:
    text = '<tool_call>{"name": "add_todo", "arguments": {}}</tool_call>'
    assert parse_reply(text, set()) == (text, [])


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
    "{% for c in m.tool_calls or [] %}<tool_call>{{ c.function.arguments | tojson }}</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if tools %}{{ tools | tojson }}{% endif %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_template_json_is_plain_and_history_is_normalised() -> None:
    from evals.local_model.server import template_messages

    messages = template_messages(
        [
            {"role": "developer", "content": "Be brief & exact."},
            {"role": "user", "content": [{"type": "text", "text": 'add "milk" <now>'}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": "add_todo", "arguments": '{"title": "milk"}'}}],
            },
        ]
    )
    prompt = ChatTemplate(CHATML).render(messages, [{"type": "function", "function": {"name": "add_todo"}}])
    assert prompt == (
        "<|im_start|>system\nBe brief & exact.<|im_end|>\n"
        '<|im_start|>user\nadd "milk" <now><|im_end|>\n'
        '<|im_start|>assistant\n<tool_call>{"title": "milk"}</tool_call><|im_end|>\n'
        '[{"type": "function", "function": {"name": "add_todo"}}]<|im_start|>assistant\n'
    )
    with pytest.raises(BadRequest):
        template_messages([{"content": "no role"}])


def test_a_response_depends_only_on_its_request() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "add milk"}], "tools": _tools()}
    text = '<tool_call>{"name": "add_todo", "arguments": {"title": "milk"}}</tool_call>'
    first, again = completion_body(request, text, "stop", 10, 5), completion_body(request, text, "stop", 10, 5)
    assert first == again
    assert first["choices"][0]["finish_reason"] == "tool_calls"

    def first_call_id(body: dict[str, Any]) -> str:
        return str(body["choices"][0]["message"]["tool_calls"][0]["id"])

    other = completion_body({**request, "messages": [{"role": "user", "content": "add eggs"}]}, text, "stop", 10, 5)
    assert first_call_id(other) != first_call_id(first)
    untooled = completion_body({**request, "tool_choice": "none"}, text, "stop", 1, 1)
    assert untooled["choices"][0]["message"]["content"] == text


def _tools() -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": name, "parameters": {}}} for name in sorted(TOOLS)]


class ScriptedModel:
    """Stands in for `LocalModel`: the same response, with the model's text scripted."""

    name = "scripted.gguf"

    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[dict[str, Any]] = []

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        return completion_body(request, self.text, "stop", 12, 3)


@pytest.fixture
def served() -> Iterator[tuple[ScriptedModel, str]]:
    model = ScriptedModel('<tool_call>\n{"name": "list_todos", "arguments": {"completed": false}}\n</tool_call>')
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(model))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield model, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_the_openai_client_reads_tool_calls_over_http(served: tuple[ScriptedModel, str]) -> None:
    model, base_url = served
    client = openai.OpenAI(base_url=base_url, api_key="local", max_retries=0)
    reply = client.chat.completions.create(
        model="qwen",
        messages=[{"role": "assistant", "content": None}, {"role": "user", "content": "what is left?"}],
        tools=_tools(),  # type: ignore[arg-type]
    )
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "list_todos" and json.loads(call.function.arguments) == {"completed": False}  # type: ignore[union-attr]
    assert reply.usage is not None and reply.usage.total_tokens == 15
    assert model.requests[0]["messages"][0]["content"] is None  # accepted as sent; the template gets ""


def test_bad_requests_get_an_openai_style_400(served: tuple[ScriptedModel, str]) -> None:
    _model, base_url = served
    client = openai.OpenAI(base_url=base_url, api_key="local", max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="qwen", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert "stream is not supported" in str(raised.value)


def test_tool_choice_opens_the_reply_as_llama_cpp_constrains_it() -> None:
    assert forced_opening({"tool_choice": "required"}) == '<tool_call>\n{"name": "'
    named = forced_opening({"tool_choice": {"type": "function", "function": {"name": "delete_todo"}}})
    assert named == '<tool_call>\n{"name": "delete_todo", "arguments": {'
    assert forced_opening({"tool_choice": "auto"}) == forced_opening({}) == ""
    # The opening and what the model writes after it parse as one call, chosen by the model.
    text = forced_opening({"tool_choice": "required"}) + 'list_todos", "arguments": {}}\n</tool_call>'
    assert parse_reply(text, TOOLS) == (None, [{"name": "list_todos", "arguments": {}}])


def test_a_reply_is_stuck_in_brace_noise_or_on_a_line_it_already_wrote() -> None:
    assert is_noise("{}} {}} {}} {}} {}} {}} ")
    assert not is_noise('}}}\n"title": "x"}') and not is_noise("}}}}}}}}") and not is_noise("You have 2 todos.")
    call = '{{"name": "update_todo", "arguments": {"todo": "bike", "completed": false}}}'
    assert is_stuck(f"{call}\n{call}\n")  # the same call again, line for line
    assert not is_stuck(f"{call}\n{call}")  # not yet: the line is still being written
    assert not is_stuck("1. Buy milk\n2. Call mom\n")


def test_calls_in_the_templates_double_braces_one_per_line_each_count() -> None:
    add = '{{"name": "add_todo", "arguments": {"title": "fix the bike"}}}}'
    update = '{{"name": "update_todo", "arguments": {"todo": "fix the bike"}}}'
    answer, calls = parse_reply(f'{add}\n{update}\n{{{{"name": "upd', TOOLS)  # the last cut at max_tokens
    assert answer is None and [c["name"] for c in calls] == ["add_todo", "update_todo"]
    listing = '{{"name": "list_todos"}}'  # a call with no arguments at all
    assert parse_reply(f"{update}\n\n{listing}", TOOLS)[1] == [calls[1], {"name": "list_todos", "arguments": {}}]
