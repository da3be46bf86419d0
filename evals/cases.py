"""Eval cases (DESIGN §8): `evals/cases/*.yaml`, each `{"cases": [case, …]}`, validated, then loaded into
a pydantic-evals `Dataset` whose evaluators are the cases' expectations (`evals/evaluators.py`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_evals import Case, Dataset

from evals.evaluators import evaluators_for

CASES_DIR = Path(__file__).parent / "cases"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Tool = Literal["list_todos", "add_todo", "update_todo", "delete_todo", "get_user_context", "undo_last_turn"]
ArgSpec = dict[str, Any]


class TodoSpec(_Strict):
    """A todo to seed, or one expected at the end; there, description and due date are compared only when
    the case states them (`model_fields_set`, so `description: null` can be asserted too)."""

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


class Expect(_Strict):
    tools: list[Tool] | None = None  # None: tool choice is not scored for this turn
    order: Literal["any", "exact", "subset"] = "any"
    # Per tool: one argument subset, or a list of them (each needs a call of its own).
    args: dict[Tool, ArgSpec | list[ArgSpec]] = Field(default_factory=dict)
    answer: AnswerSpec | None = None
    guardrail: Literal["user_scope", "tool_ownership", "output_scope"] | None = None
    # Tools the turn must pause on for the user's yes (DESIGN §6a), as a multiset; [] means it must not
    # pause; None (absent) leaves it unscored. A later turn `user: "yes"` approves, `user: "no"` rejects.
    approval: list[Tool] | None = None

    def arg_specs(self) -> list[tuple[str, ArgSpec]]:
        return [(tool, s) for tool, spec in self.args.items() for s in (spec if isinstance(spec, list) else [spec])]


class Turn(_Strict):
    user: str
    expect: Expect = Field(default_factory=Expect)


class Final(_Strict):
    todos: list[TodoSpec]


class CaseSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    tags: list[str] = Field(min_length=1)
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn] = Field(min_length=1)
    final: Final | None = None
    source: str = ""  # the file it came from, set by the loader


class CaseError(ValueError):
    pass


def load_cases(path: Path = CASES_DIR) -> list[CaseSpec]:
    """Every case under `path` (a YAML file or a folder of them), in file then case order; ids unique."""
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    cases: list[CaseSpec] = []
    seen: dict[str, str] = {}
    for file in files:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
            raise CaseError(f"{file}: expected a mapping with a `cases` list")
        for index, data in enumerate(raw["cases"]):
            try:
                case = CaseSpec.model_validate({**data, "source": file.name})
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


def dataset(cases: list[CaseSpec]) -> Dataset[CaseSpec, Any, None]:
    return Dataset(name="evals", cases=[Case(name=c.id, inputs=c, evaluators=evaluators_for(c)) for c in cases])
