"""A turn's items as a client sees them: the chat response (`TurnResult`), the stream's events
(`TurnEvent`), and the conversions from the SDK's items and stream events to both."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from agents.items import TResponseInputItem
from agents.stream_events import RawResponsesStreamEvent, RunItemStreamEvent, StreamEvent

from agents import AgentsException
from service.agent import approvals
from service.agent.memory import complete_pairs


@dataclass
class TurnResult:
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    response: str
    timestamp: datetime
    model: str
    using_stub: bool
    trace_id: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    guardrail: dict[str, str] | None = None
    status: Literal["completed", "awaiting_approval"] = "completed"
    approvals: list[dict[str, Any]] = field(default_factory=list)


TurnEventType = Literal["conversation", "tool_call", "tool_result", "delta", "guardrail", "approval", "done"]


@dataclass(frozen=True)
class TurnEvent:
    """One step of a turn as a client sees it; the stream endpoint sends each as one SSE event.

    `data` is JSON-ready, except for `done`, which carries the `TurnResult` (the non-streaming answer).
    """

    type: TurnEventType
    data: dict[str, Any] | TurnResult


def parsed_json(raw: Any) -> Any:
    """Tool arguments and outputs travel as JSON strings inside SDK items; clients want the structure.

    Anything that is not JSON (a model can emit broken arguments, a tool can return plain text) is
    passed through unchanged rather than hidden.
    """
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _tool_call(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["call_id"], "name": item["name"], "arguments": parsed_json(item.get("arguments"))}


def _tool_result(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {"call_id": item["call_id"], "name": names.get(item["call_id"]), "output": parsed_json(item.get("output"))}


def tool_activity(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The turn's tool calls and their results, in the shapes of the chat response."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    calls = [_tool_call(i) for i in items if i.get("type") == "function_call"]
    results = [_tool_result(i, names) for i in items if i.get("type") == "function_call_output"]
    return calls, results


def client_event(event: StreamEvent, names: dict[str, str]) -> TurnEvent | None:
    """The client-facing event for one SDK stream event, or None for the SDK's bookkeeping events.

    `names` maps call ids to tool names as calls go by, since a tool output does not name its tool.
    """
    if isinstance(event, RawResponsesStreamEvent):
        if event.data.type == "response.output_text.delta" and event.data.delta:
            return TurnEvent("delta", {"text": event.data.delta})
        return None
    if not isinstance(event, RunItemStreamEvent):
        return None
    item: dict[str, Any] = dict(event.item.to_input_item())
    if event.name == "tool_called" and item.get("type") == "function_call":
        names[item["call_id"]] = item["name"]
        return TurnEvent("tool_call", _tool_call(item))
    if event.name == "tool_output" and item.get("type") == "function_call_output":
        return TurnEvent("tool_result", _tool_result(item, names))
    return None


def tool_events(items: list[TResponseInputItem]) -> list[TurnEvent]:
    """`tool_call` / `tool_result` events for items a stream did not carry live (a re-asked run's)."""
    calls, results = tool_activity([dict(i) for i in items])
    return [*(TurnEvent("tool_call", c) for c in calls), *(TurnEvent("tool_result", r) for r in results)]


def tool_items(items: list[TResponseInputItem]) -> list[TResponseInputItem]:
    """The tool calls and outputs among a turn's items (its messages left out)."""
    return [i for i in items if dict(i).get("type") in ("function_call", "function_call_output")]


def completed_tool_items(exc: AgentsException) -> list[TResponseInputItem]:
    """The tool calls a failed run finished, each with its output; its messages are left out."""
    done = [dict(item) for item in approvals.run_items(exc.run_data.new_items)] if exc.run_data else []
    tool_items = [i for i in done if i.get("type") in ("function_call", "function_call_output")]
    return complete_pairs(tool_items)  # type: ignore[return-value]


def assistant_message(text: str) -> TResponseInputItem:
    """An answer the runtime writes itself (a refusal, a stop), shaped like a model's.

    With its `id`: the SDK's Chat Completions converter reads an assistant output message only with one,
    and refused the next turn's history without it."""
    item: dict[str, Any] = {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return cast(TResponseInputItem, item)
