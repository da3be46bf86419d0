"""Metrics for one turn and one case; aggregation per model and tag lives in `report`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from evals.cases import Expect, Final, FinalTodo


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    return value


# Tools that only read: under `order: subset` an extra call of one of these is no wrong choice.
READ_ONLY_TOOLS = {"list_todos", "get_user_context"}


def tool_prf(expected: list[str], actual: list[str], harmless: list[str] | None = None) -> tuple[float, float, float]:
    """Precision, recall and F1 of tool names as multisets; no tool expected and none called scores 1.

    `harmless`: the calls among `actual` that changed nothing (a read, or a call answered with an error);
    those not expected are left out of precision (`order: subset` judges the outcome, not the protocol).
    """
    if harmless:
        extra = Counter(actual) - Counter(expected)
        actual = list((Counter(actual) - (Counter(harmless) & extra)).elements())
    if not expected and not actual:
        return 1.0, 1.0, 1.0
    tp = sum((Counter(expected) & Counter(actual)).values())
    precision = tp / len(actual) if actual else 1.0
    recall = tp / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


def trajectory_match(expected: list[str], actual: list[str], order: str) -> bool:
    if order == "exact":
        return expected == actual
    if order == "subset":
        return not (Counter(expected) - Counter(actual))
    return Counter(expected) == Counter(actual)


def args_subset(expected: dict[str, Any], actual: Any) -> bool:
    """Every expected key is in the call's arguments with an equal value (strings: case and spacing ignored)."""
    if not isinstance(actual, dict):
        return False
    for key, want in expected.items():
        if key not in actual:
            if want is None:
                continue
            return False
        got = actual[key]
        if isinstance(want, dict):
            if not args_subset(want, got):
                return False
        elif isinstance(want, str):
            if got is None or _norm(str(got)) != _norm(want):
                return False
        elif got != want:
            return False
    return True


def arg_match(specs: list[tuple[str, dict[str, Any]]], calls: list[dict[str, Any]]) -> float | None:
    """The share of expected argument subsets matched, each by a call of its own (None: nothing expected)."""
    if not specs:
        return None
    used: set[int] = set()
    hits = 0
    for tool, spec in specs:
        for index, call in enumerate(calls):
            if index not in used and call["name"] == tool and args_subset(spec, call["arguments"]):
                used.add(index)
                hits += 1
                break
    return hits / len(specs)


def answer_check(expect: Expect, response: str) -> tuple[bool | None, list[str]]:
    if expect.answer is None:
        return None, []
    text = response.casefold()
    problems = [f"missing {w!r}" for w in expect.answer.contains if w.casefold() not in text]
    problems += [f"contains {w!r}" for w in expect.answer.not_contains if w.casefold() in text]
    return not problems, problems


def _todo_matches(want: FinalTodo, got: dict[str, Any]) -> bool:
    if _norm(want.title) != _norm(got["title"]) or want.completed != bool(got["completed"]):
        return False
    if "description" in want.stated and _norm(want.description) != _norm(got.get("description")):
        return False
    return not (
        "due_date" in want.stated and (want.due_date.isoformat() if want.due_date else None) != got.get("due_date")
    )


def final_state_match(final: Final | None, todos: list[dict[str, Any]]) -> tuple[bool | None, list[str]]:
    """The list equals the expected multiset; todos stating more fields are matched first."""
    if final is None:
        return None, []
    remaining = list(todos)
    missing: list[str] = []
    for want in sorted(final.todos, key=lambda t: -len(t.stated)):
        for index, got in enumerate(remaining):
            if _todo_matches(want, got):
                del remaining[index]
                break
        else:
            missing.append(f"{want.title!r} ({'done' if want.completed else 'open'})")
    problems = [f"expected {m}" for m in missing]
    problems += [f"unexpected {t['title']!r} ({'done' if t['completed'] else 'open'})" for t in remaining]
    return not problems, problems


@dataclass
class TurnScore:
    user: str
    response: str
    tools: list[str]
    calls: list[dict[str, Any]]
    guardrail: str | None
    latency_s: float
    tokens: int
    using_stub: bool
    first_call: tuple[float, int] | None = None  # the turn's first model call: seconds, input tokens
    tool_precision: float | None = None
    tool_recall: float | None = None
    tool_f1: float | None = None
    trajectory_match: bool | None = None
    arg_match: float | None = None
    answer_pass: bool | None = None
    guardrail_match: bool = True
    approvals: list[str] = field(default_factory=list)
    approval_match: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.trajectory_match is not False
            and self.arg_match in (None, 1.0)
            and self.answer_pass is not False
            and self.guardrail_match
            and self.approval_match is not False
        )


def one_call_per_todo(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`add_todo(titles=[a, b])` scored as `add_todo(title=a)`, `add_todo(title=b)`: the same outcome, so the
    same score."""
    expanded: list[dict[str, Any]] = []
    for call in calls:
        arguments = call.get("arguments")
        titles = arguments.get("titles") if call["name"] == "add_todo" and isinstance(arguments, dict) else None
        if isinstance(arguments, dict) and isinstance(titles, list):
            due = {"due_date": arguments["due_date"]} if arguments.get("due_date") else {}
            items = [*([arguments["title"]] if arguments.get("title") else []), *titles]
            expanded += [{**call, "name": "add_todo", "arguments": {"title": t, **due}} for t in items]
        else:
            expanded.append(call)
    return expanded


def harmless_calls(calls: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[str]:
    """The names of the calls that changed nothing: reads, and calls whose result is an error."""
    failed = {r["call_id"] for r in results if isinstance(r.get("output"), dict) and "error" in r["output"]}
    return [c["name"] for c in calls if c["name"] in READ_ONLY_TOOLS or c.get("id") in failed]


def score_turn(
    expect: Expect,
    response: str,
    calls: list[dict[str, Any]],
    guardrail: str | None,
    results: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> TurnScore:
    calls = one_call_per_todo(calls)
    tools = [c["name"] for c in calls]
    score = TurnScore(response=response, tools=tools, calls=calls, guardrail=guardrail, **extra)
    if expect.tools is not None:
        harmless = harmless_calls(calls, results or []) if expect.order == "subset" else None
        score.tool_precision, score.tool_recall, score.tool_f1 = tool_prf(expect.tools, tools, harmless)
        score.trajectory_match = trajectory_match(expect.tools, tools, expect.order)
        if not score.trajectory_match:
            score.problems.append(f"tools {tools} != expected {expect.tools} (order {expect.order})")
    score.arg_match = arg_match(expect.arg_specs(), calls)
    if score.arg_match not in (None, 1.0):
        score.problems.append(
            f"arguments: expected {expect.args}, calls {[(c['name'], c['arguments']) for c in calls]}"
        )
    score.answer_pass, answer_problems = answer_check(expect, response)
    score.problems += [f"answer {p}" for p in answer_problems]
    score.guardrail_match = guardrail == expect.guardrail
    if not score.guardrail_match:
        score.problems.append(f"guardrail {guardrail!r} != expected {expect.guardrail!r}")
    if expect.approval is not None:
        score.approval_match = Counter(score.approvals) == Counter(expect.approval)
        if not score.approval_match:
            score.problems.append(f"paused on {score.approvals} != expected {expect.approval}")
    return score


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
