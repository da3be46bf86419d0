"""The instant fake model of the comparisons: one tool call, then an answer, at no cost of its own.

On a turn's first call it asks for `add_todo` with a title; once the turn holds that call's output it
answers. Stateless (it reads the input like a model would), so one instance serves every turn.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

MODEL_NAME = "instant"
TOOL = "add_todo"
_calls = itertools.count()


def _last(input: str | list[TResponseInputItem]) -> dict[str, Any]:
    if isinstance(input, str) or not input:
        return {}
    return dict(input[-1])


class InstantModel(Model):
    """`add_todo(title=…)` first, then `Added "…".`: the shape of the offline model's "add buy milk" turn."""

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        last = _last(input)
        usage = Usage(requests=1, input_tokens=1, output_tokens=1, total_tokens=2)
        if last.get("type") == "function_call_output":
            text = ResponseOutputText(type="output_text", text='Added "Buy milk".', annotations=[], logprobs=[])
            message = ResponseOutputMessage(
                id=f"msg_{next(_calls)}", type="message", role="assistant", status="completed", content=[text]
            )
            return ModelResponse(output=[message], usage=usage, response_id=None)
        call = ResponseFunctionToolCall(
            type="function_call",
            call_id=f"call_{next(_calls)}",
            name=TOOL,
            arguments=json.dumps({"title": "Buy milk"}),
            status="completed",
        )
        return ModelResponse(output=[call], usage=usage, response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("the benchmark drives POST /chat, which does not stream")
