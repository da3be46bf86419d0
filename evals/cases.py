"""Eval cases (DESIGN §8): `evals/cases/*.yaml`, each `{"cases": [case, …]}`, loaded and validated."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CASES_DIR = Path(__file__).parent / "cases"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TodoSpec(_Strict):
    title: str
    completed: bool = False
    description: str | None = None
    due_date: date | None = None


class ContextSpec(_Strict):
    display_name: str | None = None
    timezone: str | None = None
    preferences: dict[str, Any] = Field(default_factory=dict)


class Setup(_Strict):
    context: ContextSpec | None = None
    todos: list[TodoSpec] = Field(default_factory=list)


class AnswerSpec(_Strict):
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)


ArgSpec = dict[str, Any]


class Expect(_Strict):
    tools: list[str] | None = None  # None: tool choice is not scored for this turn
    order: Literal["any", "exact", "subset"] = "any"
    # Per tool: one argument subset, or a list of them (each needs a call of its own).
    args: dict[str, ArgSpec | list[ArgSpec]] = Field(default_factory=dict)
    answer: AnswerSpec | None = None
    guardrail: str | None = None
    # Tools the turn must pause on for the user's yes (DESIGN §6a), as a multiset; [] means it must not
    # pause; None (absent) leaves it unscored. A later turn `user: "yes"` approves, `user: "no"` rejects.
    approval: list[str] | None = None

    def arg_specs(self) -> list[tuple[str, ArgSpec]]:
        specs: list[tuple[str, ArgSpec]] = []
        for tool, spec in self.args.items():
            specs.extend((tool, s) for s in (spec if isinstance(spec, list) else [spec]))
        return specs


class Turn(_Strict):
    user: str
    expect: Expect = Field(default_factory=Expect)


class FinalTodo(_Strict):
    title: str
    completed: bool = False
    description: str | None = None
    due_date: date | None = None
    # Which of description/due_date the case states (so `description: null` can be asserted too).
    stated: frozenset[str] = frozenset()


class Final(_Strict):
    todos: list[FinalTodo]

    @field_validator("todos", mode="before")
    @classmethod
    def _stated(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [
                {**t, "stated": frozenset(k for k in ("description", "due_date") if k in t)}
                if isinstance(t, dict)
                else t
                for t in value
            ]
        return value


GUARDRAILS = {"user_scope", "tool_ownership", "output_scope"}
TOOLS = {"list_todos", "add_todo", "update_todo", "delete_todo", "get_user_context", "undo_last_turn"}


class Case(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    tags: list[str] = Field(min_length=1)
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn] = Field(min_length=1)
    final: Final | None = None
    source: str = ""  # the file it came from, set by the loader

    @field_validator("turns")
    @classmethod
    def _known_names(cls, turns: list[Turn]) -> list[Turn]:
        for turn in turns:
            unknown = set(turn.expect.tools or []) | set(turn.expect.args) | set(turn.expect.approval or [])
            if unknown - TOOLS:
                raise ValueError(f"unknown tool(s) {sorted(unknown - TOOLS)}")
            if turn.expect.guardrail is not None and turn.expect.guardrail not in GUARDRAILS:
                raise ValueError(f"unknown guardrail {turn.expect.guardrail!r}")
        return turns


class CaseError(ValueError):
    pass


def load_cases(path: Path = CASES_DIR) -> list[Case]:
    """Every case under `path` (a YAML file or a folder of them), in file then case order; ids unique."""
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for file in files:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
            raise CaseError(f"{file}: expected a mapping with a `cases` list")
        for index, data in enumerate(raw["cases"]):
            try:
                case = Case.model_validate({**data, "source": file.name})
            except ValidationError as exc:
                name = data.get("id", f"#{index}") if isinstance(data, dict) else f"#{index}"
                raise CaseError(f"{file}: case {name}: {exc}") from None
            if case.id in seen:
                raise CaseError(f"{file}: duplicate case id {case.id!r} (also in {seen[case.id]})")
            seen[case.id] = file.name
            cases.append(case)
    if not cases:
        raise CaseError(f"no cases found under {path}")
    return cases
