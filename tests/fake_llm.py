"""A test double of an OpenAI-compatible server (Chat Completions, tool calls included) on real HTTP.

Each request pops the next scripted reply: a tool call, a text answer, or an HTTP error status.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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


@dataclass
class FakeLLM:
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

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

    async def _chat_completions(self, request: Request) -> JSONResponse:
        self.requests.append(await request.json())
        reply = self.replies.pop(0) if self.replies else TextReply("(no more scripted replies)")
        if isinstance(reply, ErrorReply):
            body = {"error": {"message": "scripted failure", "type": "server_error"}}
            return JSONResponse(body, status_code=reply.status)
        return JSONResponse(self.completion(reply))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_fake_llm(fake: FakeLLM) -> AsyncIterator[uvicorn.Server]:
    """Serve `fake` on a free loopback port until the block ends (or the test stops the server)."""
    app = Starlette(routes=[Route("/v1/chat/completions", fake._chat_completions, methods=["POST"])])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        server.should_exit = True
        await task
