"""An OpenAI-compatible model server for the provider rows: Chat Completions over real HTTP, with a delay.

`python -m bench.fake_provider --port P --delay 1.0` serves `POST /v1/chat/completions` the way the
turn of the other rows goes: a request whose last message is not a tool result gets a call of
`add_todo` with a title; one that ends with the tool's result gets the final text. It waits `--delay`
seconds before answering (before the first byte, when streamed), which is what a hosted model costs a
call, and answers `"stream": true` as `chat.completion.chunk` server-sent events (text a word at a time,
usage last, as OpenAI does with `stream_options.include_usage`).

It runs in a process of its own (uvicorn, one worker), so its CPU is not counted as the service's or
the SDK floor's, and it keeps no state: any number of turns can be in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "fake-provider"
TOOL = "add_todo"
TITLE = "Buy milk"
ANSWER = f'Added "{TITLE}" to your list.'
USAGE = {"prompt_tokens": 900, "completion_tokens": 12, "total_tokens": 912}
_ids = itertools.count()


def _message(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The assistant message and finish reason for a request: the tool call first, then the answer."""
    messages = body.get("messages") or [{}]
    if messages[-1].get("role") == "tool":
        return {"role": "assistant", "content": ANSWER}, "stop"
    call = {
        "id": f"call_{next(_ids)}",
        "type": "function",
        "function": {"name": TOOL, "arguments": json.dumps({"title": TITLE})},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"


def _chunks(message: dict[str, Any], finish: str, completion_id: str) -> list[str]:
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": 0, "model": MODEL}
    if message.get("tool_calls"):
        deltas: list[dict[str, Any]] = [{"role": "assistant", "tool_calls": [{"index": 0, **message["tool_calls"][0]}]}]
    else:
        deltas = [{"role": "assistant", "content": word} for word in re.findall(r"\S+\s*", message["content"])]
    chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": USAGE})
    return [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]


def make_app(delay_s: float) -> Starlette:
    async def completions(request: Request) -> Response:
        body = await request.json()
        message, finish = _message(body)
        completion_id = f"chatcmpl-{next(_ids)}"
        await asyncio.sleep(delay_s)
        if body.get("stream"):

            async def events() -> AsyncIterator[str]:
                for chunk in _chunks(message, finish, completion_id):
                    yield chunk

            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": 0,
                "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": USAGE,
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_provider", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each answer")
    args = parser.parse_args()
    # A deep backlog: 300 turns in flight open their connections in a burst.
    # Idle connections kept long (uvicorn closes them after 5 s): on a busy machine a client's pooled
    # connection could be closed just as it sent on it, which a hosted API's keep-alive does not do.
    uvicorn.run(
        make_app(args.delay),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=2048,
        timeout_keep_alive=120,
    )


if __name__ == "__main__":
    main()
