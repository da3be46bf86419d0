"""The declarative agent spec, `agents/todo_assistant.md`: YAML front matter plus instructions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

SPEC_PATH = Path(__file__).resolve().parents[2] / "agents" / "todo_assistant.md"


@dataclass(frozen=True)
class AgentSpec:
    name: str
    model: str
    temperature: float | None
    max_tokens: int | None
    tools: tuple[str, ...]
    history_limit: int
    max_turns: int
    instructions: str
    content_hash: str


def _at_least(value: object, minimum: int, name: str, path: Path) -> int:
    """An integer setting of the front matter, refused at load time when it would make no sense later.

    A `history_limit` under 2 leaves the model no room for history beside the new message (and 0 once
    read as "everything"); fail at start-up rather than on every turn.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{path}: {name} must be an integer of at least {minimum}, not {value!r}")
    return value


def load_spec(path: Path = SPEC_PATH) -> AgentSpec:
    raw = path.read_text(encoding="utf-8")
    _, front, body = raw.split("---", 2)
    meta = yaml.safe_load(front) or {}
    missing = {"name", "model", "tools", "max_turns"} - set(meta)
    if missing:
        raise ValueError(f"{path}: front matter lacks {sorted(missing)}")
    return AgentSpec(
        name=str(meta["name"]),
        model=str(meta["model"]),
        temperature=meta.get("temperature"),
        max_tokens=meta.get("max_tokens"),
        tools=tuple(meta["tools"]),
        history_limit=_at_least(meta.get("history_limit", 20), 2, "history_limit", path),
        max_turns=_at_least(meta["max_turns"], 1, "max_turns", path),
        instructions=body.strip(),
        content_hash=hashlib.sha256(raw.encode()).hexdigest()[:16],
    )
