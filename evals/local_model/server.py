"""A small OpenAI-compatible Chat Completions endpoint over a local GGUF model, for recording cassettes.

    python evals/local_model/server.py --model PATH.gguf [--host 127.0.0.1] [--port 8765]

Why our own and not `llama_cpp.server`: llama-cpp-python 0.3.36's server drops `tools` unless
`tool_choice` is sent, answers plain text as empty or `functions.NAME:`, HTML-escapes the prompt
(`&#34;` in JSON history), fails with HTTP 500 on `content: null`, and never parses the model's tool
calls into `tool_calls`. Here the GGUF's own chat template is rendered as Hugging Face renders it
(`tojson` is plain JSON), history is normalised the way the template expects, and the model's tool calls
(`<tool_call>{…}</tool_call>`, a fenced JSON block, or `functions.NAME:{…}`) become `tool_calls` with ids
derived from the request, so recording the same conversation twice gives the same cassette.

Greedy decoding (temperature 0) whatever the request says: recordings are meant to be reproducible.
One request at a time (the model is one context). Standard library plus `llama_cpp` and `jinja2`,
which live in the recording venv (`make record-local`), never in the service's dependencies.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MAX_TOKENS = 512
# The end-of-turn markers of ChatML templates (Qwen2.5 among them); generation stops at either.
STOP = ["<|im_end|>", "<|endoftext|>"]
BRACE_NOISE = " \n\t{},"
# A reply whose last this-many characters are all brace noise has stopped saying anything: end it there
# rather than generate to max_tokens (88 s a call on 2 cores).
NOISE_RUN = 24

# A call in the template's own tags; a small model sometimes writes it in the tags of a tool's result.
_TOOL_CALL_TAG = re.compile(r"<(tool_call|tool_response)>\s*(.*?)\s*(?:</\1>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json|tool_call)?\s*(.*?)\s*```", re.DOTALL)
# Template tokens and stray tags that are markup, never part of an answer.
_MARKUP = re.compile(r"<\|im_start\|>(?:[a-z]+\n)?|<\|[a-z_]+\|>|</?(?:tool_call|tool_response|tools)>")
_FUNCTIONS_PREFIX = re.compile(r"functions\.([A-Za-z0-9_\-]+)\s*:\s*")
# Function tags other templates use, which a small model borrows: `<function name="X" arguments='{…}'/>`
# and `<function=X>{…}</function>`.
_FUNCTION_TAG = re.compile(
    r"<function(?:=(?P<named>[\w\-]+)>(?P<body>.*?)(?:</function>|$)"
    r"|\s+name=([\"'])(?P<name>[\w\-]+)\3(?:\s+arguments=([\"'])(?P<arguments>.*?)\5)?\s*/?>(?:\s*</function>)?)",
    re.DOTALL,
)


class BadRequest(Exception):
    """The request cannot be answered as sent; becomes an OpenAI-style 400 error body."""


# ------------------------------------------------------------------------------------------------
# Request -> prompt
# ------------------------------------------------------------------------------------------------


def _text(content: Any) -> str:
    """Message content as the template wants it: a string (null becomes "", text parts are joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise BadRequest("message content must be a string, null or a list of text parts")


def _arguments(raw: Any) -> Any:
    """Tool-call arguments as an object: OpenAI sends a JSON string, the template `tojson`s an object."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def template_messages(messages: Any) -> list[dict[str, Any]]:
    """OpenAI chat messages normalised for a Hugging Face style chat template."""
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list")
    normalised = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequest("each message needs a role")
        role = "system" if message["role"] == "developer" else message["role"]
        entry: dict[str, Any] = {"role": role, "content": _text(message.get("content"))}
        if message.get("tool_calls"):
            entry["tool_calls"] = [
                {
                    "id": call.get("id"),
                    "type": "function",
                    "function": {
                        "name": call.get("function", {}).get("name", ""),
                        "arguments": _arguments(call.get("function", {}).get("arguments")),
                    },
                }
                for call in message["tool_calls"]
            ]
        if message.get("tool_call_id"):
            entry["tool_call_id"] = message["tool_call_id"]
        normalised.append(entry)
    return normalised


class ChatTemplate:
    """The GGUF's `tokenizer.chat_template`, rendered as `transformers.apply_chat_template` renders it."""

    def __init__(self, source: str) -> None:
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        # jinja2's own `tojson` HTML-escapes (`"` -> `&#34;`): the model would see JSON it was never trained on.
        env.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
        env.globals["raise_exception"] = _raise
        self._template = env.from_string(source)

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
        return self._template.render(messages=messages, tools=tools or None, add_generation_prompt=True)


def _raise(message: str) -> None:
    raise BadRequest(f"chat template: {message}")


# ------------------------------------------------------------------------------------------------
# Completion text -> message
# ------------------------------------------------------------------------------------------------


def _call_from(candidate: str, tool_names: set[str], *, explicit: bool = False) -> dict[str, Any] | None:
    """`{"name": …, "arguments": {…}}` (or `parameters`) naming one of the request's tools; else None.

    `explicit`: the arguments must be there (a tool's echoed result names the tool too, but has none).
    """
    candidate = candidate.strip()
    # The Qwen template's own instructions show the call in double braces; the model sometimes copies them.
    if candidate.startswith("{{") and candidate.endswith("}}"):
        candidate = candidate[1:-1]
    try:
        parsed, end = json.JSONDecoder().raw_decode(candidate)
    except json.JSONDecodeError:
        return None
    # A format slip, not a different call: one object followed only by stray braces (a small model may go on
    # writing "{}}" after its call until it runs out of tokens).
    if candidate[end:].strip(BRACE_NOISE):
        return None
    if not isinstance(parsed, dict) or parsed.get("name") not in tool_names:
        return None
    if explicit and not {"arguments", "parameters"} & parsed.keys():
        return None
    arguments = parsed.get("arguments", parsed.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = _arguments(arguments)
    if not isinstance(arguments, dict):
        return None
    return {"name": parsed["name"], "arguments": arguments}


def _bare_calls(text: str, tool_names: set[str]) -> tuple[list[dict[str, Any]], str]:
    """The call objects a reply opens with ("{…}\n{…}", each maybe in the template's double braces: a model
    making several calls without their tags), and the text after them, which is the answer as text after
    tagged calls is. None unless the reply opens with a call (prose showing JSON is not one), and a last
    call cut off at max_tokens is dropped."""
    decoder = json.JSONDecoder()
    calls: list[dict[str, Any]] = []
    position, text = 0, text.strip()
    while text.startswith("{", position):
        start = position + 1 if text.startswith("{{", position) else position
        try:
            parsed, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            return (calls, "") if calls else ([], text)  # cut off mid-call
        # A piece that is only a tool's name is a call without arguments; one with other keys must hold
        # arguments (an echoed tool result names its tool too, but carries its output).
        call = _call_from(
            text[start:end], tool_names, explicit=not (isinstance(parsed, dict) and parsed.keys() == {"name"})
        )
        if call is None:
            return ([], text) if not calls else (calls, text[position:])
        calls.append(call)
        position = end
        while position < len(text) and text[position] in " \n\t},":  # stray closing braces are a format slip
            position += 1
    return calls, text[position:] if calls else text


def _functions_calls(text: str, tool_names: set[str]) -> list[dict[str, Any]]:
    """`functions.NAME:{…}` calls, one JSON object after each prefix."""
    decoder = json.JSONDecoder()
    calls = []
    for match in _FUNCTIONS_PREFIX.finditer(text):
        if match.group(1) not in tool_names:
            continue
        try:
            arguments, _end = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        if isinstance(arguments, dict):
            calls.append({"name": match.group(1), "arguments": arguments})
    return calls


def _function_tags(text: str, tool_names: set[str]) -> list[dict[str, Any]]:
    calls = []
    for match in _FUNCTION_TAG.finditer(text):
        name = match["named"] or match["name"]
        arguments = _arguments((match["body"] if match["named"] else match["arguments"]) or "{}")
        if name in tool_names and isinstance(arguments, dict):
            calls.append({"name": name, "arguments": arguments})
    return calls


def parse_reply(text: str, tool_names: set[str]) -> tuple[str | None, list[dict[str, Any]]]:
    """Split the model's text into the visible answer and the tool calls it makes.

    Only the model's format is repaired here, never its choice: a call counts only when it names a tool
    of the request, and a fenced JSON block only when it is the whole reply, so prose that shows an
    example is not executed. Tags that held no call are markup and leave the answer; what is left may be
    empty, which the service treats as no answer.
    """
    calls: list[dict[str, Any]] = []
    if tool_names:
        tagged = [
            _call_from(m.group(2), tool_names, explicit=m.group(1) == "tool_response")
            for m in _TOOL_CALL_TAG.finditer(text)
        ]
        fenced = [_call_from(m.group(1), tool_names) for m in _FENCED.finditer(text)]
        if any(tagged):
            calls = [call for call in tagged if call]
            text = _TOOL_CALL_TAG.sub("", text)
        elif fenced and all(fenced) and not _FENCED.sub("", text).strip():
            calls = [call for call in fenced if call]
            text = ""
        elif whole := _call_from(text, tool_names):  # a bare JSON object as the whole reply
            calls, text = [whole], ""
        elif (bare := _bare_calls(_MARKUP.sub("", text), tool_names))[0]:  # several, or in the tool list's
            calls, text = bare  # <tools> tags, which the model copies from the template
        elif calls := _function_tags(text, tool_names):
            text = _FUNCTION_TAG.sub("", text)
        elif calls := _functions_calls(text, tool_names):
            text = text[: _FUNCTIONS_PREFIX.search(text).start()]  # type: ignore[union-attr]
        text = _MARKUP.sub("", _TOOL_CALL_TAG.sub("", text))
    answer = text.strip()
    return (answer or None), calls


def forced_opening(request: dict[str, Any]) -> str:
    """How the reply must begin for the request's `tool_choice`, as llama.cpp's server constrains it:
    `required` opens a tool call up to the tool's name (which tool and which arguments stay the model's;
    opened only by the tag, Qwen2.5 closes the turn at once), a named function opens a call of that
    function up to its arguments' opening brace. `auto` and `none` force nothing."""
    choice = request.get("tool_choice")
    if choice == "required":
        return '<tool_call>\n{"name": "'
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        # Up to the arguments' opening brace: they are an object (a bare opening let the model write `0`).
        return '<tool_call>\n{"name": ' + json.dumps(choice["function"].get("name")) + ', "arguments": {'
    return ""


def call_ids(request_digest: str, count: int) -> list[str]:
    """Tool-call ids that depend only on the request: the same conversation records the same ids."""
    return [f"call_{hashlib.sha256(f'{request_digest}:{n}'.encode()).hexdigest()[:24]}" for n in range(count)]


def completion_body(
    request: dict[str, Any], text: str, finish: str | None, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    """The Chat Completions response for the model's `text` (ids and `created` fixed by the request)."""
    tools = request.get("tools") if request.get("tool_choice") != "none" else None
    tool_names = {t.get("function", {}).get("name") for t in tools or [] if isinstance(t, dict)}
    answer, calls = parse_reply(text, tool_names)
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["arguments"], ensure_ascii=False)},
            }
            for call_id, call in zip(call_ids(digest, len(calls)), calls, strict=True)
        ]
    return {
        "id": f"chatcmpl-{digest[:24]}",
        "object": "chat.completion",
        "created": 0,  # a recording must not change when nothing but the clock did
        "model": request.get("model", "local"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if calls else ("length" if finish == "length" else "stop"),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


# ------------------------------------------------------------------------------------------------
# The model and the HTTP server
# ------------------------------------------------------------------------------------------------


class LocalModel:
    def __init__(self, model_path: str, n_ctx: int, threads: int | None) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=threads, seed=0, verbose=False)
        self.template = ChatTemplate(self.llm.metadata["tokenizer.chat_template"])
        self.name = model_path.rsplit("/", 1)[-1]
        self._lock = threading.Lock()  # one context: one generation at a time

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        tools = request.get("tools") if request.get("tool_choice") != "none" else None
        prompt = self.template.render(template_messages(request.get("messages")), tools)
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        max_tokens = int(request.get("max_completion_tokens") or request.get("max_tokens") or DEFAULT_MAX_TOKENS)
        if len(tokens) + max_tokens > self.llm.n_ctx():
            raise BadRequest(f"prompt of {len(tokens)} tokens leaves no room in a {self.llm.n_ctx()}-token context")
        opening = forced_opening(request) if tools else ""
        if opening:
            tokens += self.llm.tokenize(opening.encode("utf-8"), add_bos=False, special=True)
        with self._lock:
            started = time.perf_counter()
            # The KV cache keeps the longest common prefix (system prompt and tools), so turns stay quick.
            out = self.llm.create_completion(
                tokens,
                max_tokens=max_tokens,
                temperature=0.0,
                stop=STOP,
                stopping_criteria=self._noise_stop(len(tokens)),
            )
        choice = {**out["choices"][0], "text": opening + out["choices"][0]["text"]}
        usage = out["usage"]
        # One line per completion on stderr (the server's log): where a slow recording spends its time.
        print(
            f"completion: {time.perf_counter() - started:.1f} s, {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} generated tokens, {choice.get('finish_reason')}: "
            + json.dumps(
                choice["text"] if len(choice["text"]) <= 240 else choice["text"][:160] + " … " + choice["text"][-80:]
            ),
            file=sys.stderr,
            flush=True,
        )
        return completion_body(
            request, choice["text"], choice.get("finish_reason"), usage["prompt_tokens"], usage["completion_tokens"]
        )

    def _noise_stop(self, prompt_length: int) -> Any:
        from llama_cpp import StoppingCriteriaList

        def stop(input_ids: Any, _logits: Any) -> bool:
            return is_stuck(self.llm.detokenize(list(input_ids[prompt_length:])).decode("utf-8", errors="ignore"))

        return StoppingCriteriaList([stop])


def is_noise(text: str) -> bool:
    """Nothing but braces, commas and spaces, and not a JSON value's plain closing."""
    return not text.strip(BRACE_NOISE) and "{}" in text


def is_stuck(reply: str) -> bool:
    """The reply so far has stopped saying anything new: it ends in brace noise, or its last line repeats an
    earlier one word for word (the 1.5B model wrote the same call again until max_tokens, 88 s a call)."""
    if len(reply) >= NOISE_RUN and is_noise(reply[-NOISE_RUN:]):
        return True
    lines = reply.split("\n")
    return len(lines) > 2 and bool(lines[-2].strip()) and lines[-2] in lines[:-2]


def make_handler(model: LocalModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(HTTPStatus.OK, {"object": "list", "data": [{"id": model.name, "object": "model"}]})
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found")

        def do_POST(self) -> None:
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(HTTPStatus.NOT_FOUND, "not found")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(request, dict):
                    raise BadRequest("the body must be a JSON object")
                if request.get("stream"):
                    raise BadRequest("stream is not supported by this endpoint")
                self._send(HTTPStatus.OK, model.complete(request))
            except (BadRequest, ValueError) as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except Exception as exc:  # the recorder sees a 500 and the case is marked as an error
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": None}})

        def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            print(f"{self.address_string()} {format % args}", flush=True)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="path of the GGUF file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ctx", type=int, default=8192, help="context length in tokens")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: llama.cpp's choice)")
    args = parser.parse_args()
    model = LocalModel(args.model, args.ctx, args.threads)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(model))
    print(f"serving {model.name} on http://{args.host}:{args.port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
