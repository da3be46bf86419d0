"""A case's expectations as pydantic-evals evaluators, each run on one turn by `OnTurn` (results `t2.tool_f1`).

The library's where they fit: `ToolCorrectness` (order any, subset), `TrajectoryMatch` (exact; `any_order`
is tool F1) over the turn's calls as `execute_tool` spans, `Contains` for answer words, `Equals` for the
guardrail and the approvals. Ours where it has none: tool precision and recall (it reports only their F1),
argument subsets (`ArgumentCorrectness` checks one occurrence by exact equality; a case needs each subset
matched by a call of its own, strings compared case- and space-insensitively) and the final state.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pydantic_evals.evaluators as library
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput
from pydantic_evals.otel import SpanNode, SpanTree

from evals.clock import PINNED_NOW
from service.agent.offline.dates import date_value

if TYPE_CHECKING:
    from evals.cases import CaseSpec, TodoSpec
    from evals.runner import Conversation, TurnRecord

# Tools that only read: under `order: subset` an extra call of one of these is no wrong choice.
READ_ONLY_TOOLS = {"list_todos", "get_user_context"}
# A call naming several todos counts as one call per todo, its other arguments applied to each: a list in
# `add_todo(titles=…)` or in `todo` of update/delete (`delete_todo(todo=[a, b])` = two deletes). Per tool:
# (the field that may carry a list, the field each item goes to).
PLURAL_FIELDS = {"add_todo": ("titles", "title"), "update_todo": ("todo", "todo"), "delete_todo": ("todo", "todo")}
# The metrics that decide whether a case passed (each must be 1 or true); tool F1, precision and recall do not.
PASS_CHECKS = {"trajectory_match", "arg_match", "answer_pass", "guardrail_match", "approval_match", "final_state"}


def one_call_per_item(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    expanded: list[dict[str, Any]] = []
    for call in calls:
        plural, single = PLURAL_FIELDS.get(call["name"], ("", ""))
        args = call.get("arguments")
        if not isinstance(args, dict) or not isinstance(args.get(plural), list):
            expanded.append(call)
            continue
        shared = {k: v for k, v in args.items() if k not in (plural, single) and v is not None}
        items = ([args[single]] if single != plural and args.get(single) else []) + args[plural]
        expanded += [{**call, "arguments": {single: item, **shared}} for item in items]
    return expanded


def changed_nothing(calls: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[str]:
    """The names of the calls that changed nothing: reads, and calls whose result is an error."""
    failed = {r["call_id"] for r in results if isinstance(r.get("output"), dict) and "error" in r["output"]}
    return [c["name"] for c in calls if c["name"] in READ_ONLY_TOOLS or c.get("id") in failed]


def _spans(calls: list[dict[str, Any]]) -> SpanTree:
    """The calls as the `execute_tool` spans the library's tool evaluators read: made from the recorded
    calls, as the telemetry has one span for a batch call that scores as several."""
    tree, at = SpanTree(), datetime(2026, 1, 1, tzinfo=UTC)
    for i, c in enumerate(calls):
        attributes = {"gen_ai.tool.name": c["name"], "gen_ai.tool.call.arguments": json.dumps(c["arguments"])}
        start = at + timedelta(microseconds=i)  # the library orders calls by start
        node = SpanNode(
            name=f"execute_tool {c['name']}",
            trace_id=1,
            span_id=i + 1,
            parent_span_id=None,
            start_timestamp=start,
            end_timestamp=start,
            attributes=attributes,
        )
        tree.add_spans([node])
    return tree


@dataclass(repr=False)
class OnTurn(Evaluator["CaseSpec", "Conversation", None]):
    """Runs `check` on one turn: the turn record (or its `field`) as output, its calls as the span tree.

    `subset`: the expected tools of an `order: subset` turn; an extra call that changed nothing (a read,
    or a call answered with an error) is then left out, as the case judges the outcome, not the protocol.
    """

    turn: int
    metric: str
    check: Evaluator[Any, Any, Any]
    field: str | None = None
    subset: list[str] | None = None

    async def evaluate(self, ctx: EvaluatorContext[CaseSpec, Conversation, None]) -> EvaluatorOutput:
        if self.turn >= len(ctx.output.turns):  # the case stopped before this turn (error, stale)
            return {}
        record, calls = ctx.output.turns[self.turn], ctx.output.turns[self.turn].calls
        if self.subset is not None:  # names only: F1, precision and recall read neither arguments nor order
            names = Counter(c["name"] for c in calls)
            kept = names - (Counter(record.harmless) & (names - Counter(self.subset)))
            calls = [{"name": name, "arguments": {}} for name in kept.elements()]
        output = getattr(record, self.field) if self.field else record
        turn_ctx = replace(cast(EvaluatorContext[Any, Any, None], ctx), output=output, _span_tree=_spans(calls))
        result = await self.check.evaluate_async(turn_ctx)
        if result is False:  # `Equals` gives no reason
            result = EvaluationReason(
                False, f"{self.field} {output!r}, expected {getattr(self.check, 'value', None)!r}"
            )
        items = result.items() if isinstance(result, Mapping) else [(self.metric, result)]
        return {f"t{self.turn + 1}.{name}": value for name, value in items}


@dataclass(repr=False)
class ToolPrecisionRecall(Evaluator[Any, Any, None]):
    """Tool names as multisets; no tool expected and none called scores 1."""

    expected: list[str]

    def evaluate(self, ctx: EvaluatorContext[Any, Any, None]) -> EvaluatorOutput:
        actual = [str(node.attributes["gen_ai.tool.name"]) for node in ctx.span_tree]
        hits = sum((Counter(self.expected) & Counter(actual)).values())
        precision, recall = hits / len(actual) if actual else 1.0, hits / len(self.expected) if self.expected else 1.0
        return {"tool_precision": precision, "tool_recall": recall}


def _same(want: Any, got: Any) -> bool:
    """Strings equal but for case and spacing; mappings as subsets; an expected null may be absent. A due
    date is compared as the tools read it: the model may pass the user's words ("friday"), which the tool
    resolves against the turn's date, as the instructions tell it to."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            _same_date(v, got.get(k)) if k == "due_date" else _same(v, got.get(k)) for k, v in want.items()
        )
    if isinstance(want, str):
        return got is not None and " ".join(str(got).split()).casefold() == " ".join(want.split()).casefold()
    return bool(got == want)


def _same_date(want: Any, got: Any) -> bool:
    if isinstance(want, str) and isinstance(got, str) and (day := date_value(got, PINNED_NOW.date())):
        return day.isoformat() == want
    return _same(want, got)


@dataclass(repr=False)
class ArgumentSubsets(Evaluator[Any, "TurnRecord", None]):
    """The share of expected argument subsets matched, each by a call of its own."""

    specs: list[tuple[str, dict[str, Any]]]

    def evaluate(self, ctx: EvaluatorContext[Any, TurnRecord, None]) -> EvaluationReason:
        calls, used = ctx.output.calls, set[int]()
        for tool, spec in self.specs:
            hit = next(
                (i for i, c in enumerate(calls) if i not in used and c["name"] == tool and _same(spec, c["arguments"])),
                None,
            )
            if hit is not None:
                used.add(hit)
        why = f"arguments: expected {self.specs}, calls {[(c['name'], c['arguments']) for c in calls]}"
        return EvaluationReason(len(used) / len(self.specs), why)


@dataclass(repr=False)
class Answer(Evaluator[Any, str, None]):
    """Every `contains` word in the answer and no `not_contains` one, case-insensitive (`Contains`)."""

    contains: list[str]
    not_contains: list[str]

    def evaluate(self, ctx: EvaluatorContext[Any, str, None]) -> EvaluationReason:
        has = {
            w: library.Contains(w, case_sensitive=False).evaluate(ctx).value for w in self.contains + self.not_contains
        }
        problems = [f"missing {w!r}" for w in self.contains if not has[w]]
        problems += [f"contains {w!r}" for w in self.not_contains if has[w]]
        return EvaluationReason(not problems, "answer " + "; ".join(problems))


def _stated(todo: TodoSpec) -> set[str]:
    """What an expected todo is compared on: title and state, and description and due date if it says them."""
    return {"title", "completed"} | (todo.model_fields_set & {"description", "due_date"})


@dataclass(repr=False)
class FinalState(Evaluator["CaseSpec", "Conversation", None]):
    """The todo list equals the expected multiset; expected todos stating more fields are matched first."""

    def evaluate(self, ctx: EvaluatorContext[CaseSpec, Conversation, None]) -> EvaluatorOutput:
        if ctx.inputs.final is None or ctx.output.final_todos is None:
            return {}
        remaining, missing = list(ctx.output.final_todos), []
        for want in sorted(ctx.inputs.final.todos, key=lambda t: -len(_stated(t))):
            expected = want.model_dump(mode="json", include=_stated(want))
            index = next((i for i, got in enumerate(remaining) if _same(expected, got)), None)
            if index is None:
                missing.append(f"expected {want.title!r} ({'done' if want.completed else 'open'})")
            else:
                del remaining[index]
        problems = missing + [f"unexpected {t['title']!r} ({'done' if t['completed'] else 'open'})" for t in remaining]
        return {"final_state": EvaluationReason(not problems, "; ".join(problems))}


def evaluators_for(case: CaseSpec) -> list[Evaluator[Any, Any, Any]]:
    """The case's expectations (DESIGN §8) as evaluators, turn by turn, then its final state."""
    checks: list[Evaluator[Any, Any, Any]] = []
    for n, expect in enumerate(turn.expect for turn in case.turns):
        tools: list[str] | None = None if expect.tools is None else list(expect.tools)
        checks.append(OnTurn(n, "guardrail_match", library.Equals(expect.guardrail), field="guardrail"))
        if tools is not None:
            subset = tools if expect.order == "subset" else None
            exact = expect.order == "exact"
            trajectory = (
                library.TrajectoryMatch(tools, order="exact")
                if exact
                else library.ToolCorrectness(tools, allow_extra=subset is not None)
            )
            checks.append(OnTurn(n, "trajectory_match", trajectory))
            checks.append(OnTurn(n, "tool_f1", library.TrajectoryMatch(tools, order="any_order"), subset=subset))
            checks.append(OnTurn(n, "tool_precision", ToolPrecisionRecall(tools), subset=subset))
        if expect.args:
            checks.append(OnTurn(n, "arg_match", ArgumentSubsets(expect.arg_specs())))
        if expect.answer is not None:
            checks.append(
                OnTurn(n, "answer_pass", Answer(expect.answer.contains, expect.answer.not_contains), "response")
            )
        if expect.approval is not None:
            checks.append(OnTurn(n, "approval_match", library.Equals(sorted(expect.approval)), field="approvals"))
    return [*checks, FinalState()]
