"""The conversation as the model sees it: the SDK input items grouped into turns (each user message
with the tool calls, outputs and answer that followed it), and lookups over that history.

Everything is re-read on every call, so the model can take over a turn half-way through.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from agents.items import TResponseInputItem

from service.agent.answer_check import CONFIRM_LINE
from service.agent.offline.dates import today_from

_MUTATING_TOOLS = frozenset({"add_todo", "update_todo", "delete_todo"})


@dataclass(frozen=True)
class Todo:
    id: str
    title: str
    completed: bool = False
    due_date: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Todo | None:
        """A todo from a tool output; None for anything without an id and a title."""
        if not isinstance(data, dict) or not data.get("id") or not isinstance(data.get("title"), str):
            return None
        return cls(
            id=str(data["id"]),
            title=data["title"],
            completed=bool(data.get("completed")),
            due_date=data.get("due_date"),
            description=data.get("description"),
        )


@dataclass
class PastCall:
    """A tool call the conversation already holds, with its parsed JSON output once it has one."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    output: dict[str, Any] | None = None

    @property
    def error(self) -> str | None:
        """The tool's error message, if it failed."""
        problem = (self.output or {}).get("error")
        if isinstance(problem, dict):
            return str(problem.get("message") or problem.get("code") or "the tool failed")
        return None if problem is None else str(problem)

    @property
    def subject(self) -> Todo | None:
        """The todo a successful add, update or delete was about."""
        if self.output is None or self.error:
            return None
        return Todo.from_json(self.output.get("todo") or self.output.get("deleted"))

    @property
    def listed(self) -> list[Todo]:
        todos = (self.output or {}).get("todos")
        return [todo for item in todos if (todo := Todo.from_json(item))] if isinstance(todos, list) else []


@dataclass
class Turn:
    """One user message and what followed it: tool calls with their outputs, and the answer."""

    user_text: str
    calls: list[PastCall] = field(default_factory=list)
    answer: str | None = None

    def ran(self, name: str) -> list[PastCall]:
        """This turn's calls of the tool `name` that have an output, in order."""
        return [call for call in self.calls if call.name == name and call.output is not None]

    @property
    def mutations(self) -> list[PastCall]:
        """Add, update and delete calls that have run (successfully or not)."""
        return [call for call in self.calls if call.name in _MUTATING_TOOLS and call.output is not None]

    @property
    def changed(self) -> list[Todo]:
        return [todo for call in self.mutations if (todo := call.subject)]

    @property
    def asked_to_approve(self) -> bool:
        """Whether our answer was the service's approval question (the turn paused on its changes)."""
        return (self.answer or "").rstrip().endswith(CONFIRM_LINE)

    @property
    def is_listing(self) -> bool:
        return bool(self.calls) and all(call.name == "list_todos" and call.output for call in self.calls)

    def pages(self, completed: bool | None) -> list[PastCall]:
        """This turn's `list_todos` pages for one filter, in order."""
        return [call for call in self.ran("list_todos") if call.arguments.get("completed") == completed]

    def listing(self, completed: bool | Literal["last"] | None = "last") -> list[Todo]:
        """The todos this turn's `list_todos` pages returned for one filter (the last one used by
        default), pages joined in order."""
        if completed == "last":
            listed = self.ran("list_todos")
            completed = listed[-1].arguments.get("completed") if listed else None
        seen: dict[str, Todo] = {}
        for page in self.pages(completed):
            seen.update((todo.id, todo) for todo in page.listed if todo.id not in seen)
        return list(seen.values())


@dataclass(frozen=True)
class Conversation:
    today: date | None
    tools: frozenset[str]
    turns: tuple[Turn, ...]

    @property
    def current(self) -> Turn:
        return self.turns[-1]

    @property
    def history(self) -> tuple[Turn, ...]:
        return self.turns[:-1]


def read_conversation(instructions: str | None, items: Sequence[dict[str, Any]], tools: frozenset[str]) -> Conversation:
    turns = read_turns(items) or [Turn("")]
    return Conversation(today_from(instructions, items), tools, tuple(turns))


def read_turns(items: Sequence[dict[str, Any]]) -> list[Turn]:
    """Group Responses input items into turns, pairing each call with its output by call id."""
    turns: list[Turn] = []
    calls: dict[str, PastCall] = {}

    def latest() -> Turn:
        if not turns:  # history cut before its first user message
            turns.append(Turn(""))
        return turns[-1]

    for item in items:
        kind, role = item.get("type"), item.get("role")
        if role == "user" and kind in (None, "message"):
            turns.append(Turn(_text_of(item.get("content"))))
        elif role == "assistant" and kind in (None, "message"):
            latest().answer = _text_of(item.get("content"))
        elif kind == "function_call":
            call = PastCall(str(item.get("call_id")), str(item.get("name")), _json_object(item.get("arguments")))
            calls[call.call_id] = call
            latest().calls.append(call)
        elif kind == "function_call_output" and (answered := calls.get(str(item.get("call_id")))):
            answered.output = _tool_output(item.get("output"))
    return turns


def as_items(input: str | list[TResponseInputItem]) -> list[dict[str, Any]]:
    """Input items as plain dicts, whether given as a string, dicts or SDK/OpenAI models."""
    if isinstance(input, str):
        return [{"role": "user", "content": input}]
    items = []
    for item in input:
        dump = getattr(item, "model_dump", None)
        items.append(dump(exclude_none=True) if callable(dump) else dict(item))
    return items


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict)).strip()
    return ""


def _json_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tool_output(raw: Any) -> dict[str, Any]:
    """A tool output as JSON; anything else (the SDK's plain-text failure message) counts as an error."""
    text = _text_of(raw) if isinstance(raw, list) else raw
    parsed = _json_object(text)
    if parsed:
        return parsed
    return {"error": {"code": "internal", "message": str(text or "the tool returned nothing")}}


def snapshots(turns: Sequence[Turn], until: PastCall | None = None) -> dict[str, Todo]:
    """Each todo as last seen in tool outputs before `until` (to know what a change replaced)."""
    seen: dict[str, Todo] = {}
    for call in itertools.chain.from_iterable(turn.calls for turn in turns):
        if call is until:
            break
        seen.update((todo.id, todo) for todo in call.listed)
        if call.name in ("add_todo", "update_todo") and (todo := call.subject):
            seen[todo.id] = todo
    return seen
