"""Repeated tool calls: a small model may make the call it just made again and again (an `update_todo`
with the same arguments ten times until `max_turns`, or a second `add_todo` that duplicates a todo).

- `no_repeat` (a tool input guardrail): a call with the same tool and arguments as one this turn already
  made is not run again (a read only until a change comes between); the model is told to answer instead.
- `stop_when_repeating` (the agent's `tool_use_behavior`): a model step whose every call was such a repeat
  ends the run, and the turn answers from what its calls did (`TurnContext.repeating`).

Deterministic and provider-independent, like the guardrails: the offline model never repeats a call, so
it never meets either.
"""

from __future__ import annotations

import json
from typing import Any

from agents import (
    FunctionToolResult,
    RunContextWrapper,
    ToolGuardrailFunctionOutput,
    ToolInputGuardrailData,
    ToolsToFinalOutputResult,
    tool_input_guardrail,
)
from service.agent.context import TurnContext

READ_ONLY_TOOLS = {"list_todos", "get_user_context"}

REPEATED_OUTPUT = json.dumps(
    {
        "error": {
            "code": "repeated",
            "message": "this exact call already ran in this turn and its result is above; do not repeat it, "
            "answer the user now",
        }
    },
    separators=(",", ":"),
)


def _signature(tool: str, arguments: str) -> str:
    """The call as a comparable string: the same arguments in another order or spacing are the same call,
    and a null argument is the same as one left out."""
    try:
        parsed: Any = json.loads(arguments or "{}")
    except ValueError:
        return f"{tool}:{arguments}"
    if isinstance(parsed, dict):
        parsed = {key: value for key, value in parsed.items() if value is not None}
    return f"{tool}:{json.dumps(parsed, sort_keys=True)}"


@tool_input_guardrail(name="no_repeat")
async def no_repeat(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
    turn: TurnContext = data.context.context
    tool = data.context.tool_name
    signature = _signature(tool, data.context.tool_arguments)
    if signature in turn.calls_made:
        return ToolGuardrailFunctionOutput.reject_content(REPEATED_OUTPUT)
    if tool not in READ_ONLY_TOOLS:  # after a change, a read may answer differently: it is no repeat
        turn.calls_made -= {made for made in turn.calls_made if made.split(":", 1)[0] in READ_ONLY_TOOLS}
    turn.calls_made.add(signature)
    return ToolGuardrailFunctionOutput.allow()


def stop_when_repeating(
    context: RunContextWrapper[TurnContext], results: list[FunctionToolResult]
) -> ToolsToFinalOutputResult:
    """Run the model again after its tool calls (the SDK's default), unless it did nothing but repeat."""
    if results and all(result.output == REPEATED_OUTPUT for result in results):
        context.context.repeating = True
        return ToolsToFinalOutputResult(is_final_output=True, final_output="")
    return ToolsToFinalOutputResult(is_final_output=False)
