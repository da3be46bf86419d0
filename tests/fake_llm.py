"""A test double of an OpenAI-compatible server (Chat Completions, tool calls included) on real HTTP.

Each request pops the next scripted reply: a tool call, a text answer, or an HTTP error status.
With no scripted reply left, `responder` (when set) picks the reply from the request itself, which
suits concurrent turns whose requests arrive in no particular order.
A request with `"stream": true` gets the reply as server-sent chunks, text a word at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.live_server import serve_asgi


@dataclass
class ToolCallReply:
    name: str
    arguments: dict[str, Any]


@dataclass
class TextReply:
    text: str


@dataclass
class ErrorReply:
    status: int


Reply = ToolCallReply | TextReply | ErrorReply


# Settings that point the service at a FakeLLM (add `openai_base_url=fake.base_url`): no retries, short timeout.
FAKE_PROVIDER: dict[str, Any] = {
    "model_provider": "openai-compatible",
    "agent_model": "fake-model",
    "model_max_retries": 0,
    "model_timeout_s": 5,
}


@dataclass
class FakeLLM:
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    # Answers a request (its JSON body) once `replies` is used up.
    responder: Callable[[dict[str, Any]], Reply] | None = None
    # Answer `"stream": true` with a plain JSON completion, as some servers do (issue 13 item 6).
    ignore_stream: bool = False

    def next_reply(self, body: dict[str, Any]) -> Reply:
        if self.replies:
            return self.replies.pop(0)
        if self.responder is not None:
            return self.responder(body)
        return TextReply("(no more scripted replies)")

    def completion(self, reply: ToolCallReply | TextReply) -> dict[str, Any]:
        n = len(self.requests)
        if isinstance(reply, ToolCallReply):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_fake_{n}",
                        "type": "function",
                        "function": {"name": reply.name, "arguments": json.dumps(reply.arguments)},
                    }
                ],
            }
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": reply.text}, "stop"
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def chunks(self, reply: ToolCallReply | TextReply) -> Iterator[str]:
        """The reply as a streamed completion: the same message, cut into `chat.completion.chunk` deltas."""
        whole = self.completion(reply)
        message, finish = whole["choices"][0]["message"], whole["choices"][0]["finish_reason"]
        if message.get("tool_calls"):
            deltas = [{"role": "assistant", "tool_calls": [{"index": 0, **message["tool_calls"][0]}]}]
        else:
            deltas = [{"role": "assistant", "content": word} for word in re.findall(r"\S+\s*", message["content"])]
        base = {"id": whole["id"], "object": "chat.completion.chunk", "created": 0, "model": whole["model"]}
        for delta in deltas:
            yield json.dumps({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        yield json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        yield json.dumps({**base, "choices": [], "usage": whole["usage"]})
        yield "[DONE]"

    async def _chat_completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        reply = self.next_reply(body)
        if isinstance(reply, ErrorReply):
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return JSONResponse(error, status_code=reply.status)
        if body.get("stream") and not self.ignore_stream:
            events = (f"data: {chunk}\n\n" for chunk in self.chunks(reply))
            return StreamingResponse(events, media_type="text/event-stream")
        return JSONResponse(self.completion(reply))


@asynccontextmanager
async def serve_fake_llm(fake: FakeLLM, port: int | None = None) -> AsyncIterator[uvicorn.Server]:
    """Serve `fake` on a loopback port (a free one unless given) until the block ends (or the test stops it)."""
    app = Starlette(routes=[Route("/v1/chat/completions", fake._chat_completions, methods=["POST"])])
    async with serve_asgi(app, lifespan="off", port=port) as (server, base_url):
        fake.base_url = f"{base_url}/v1"
        yield server
