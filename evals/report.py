"""From pydantic-evals reports (one per model) to ours: report.json (DESIGN §8) with aggregates per model and
tag, thresholds, the terminal table, JUnit XML and the Markdown summary."""

from __future__ import annotations

import json
import statistics
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic_evals.reporting import EvaluationReport, ReportCase, ReportCaseFailure
from rich.console import Console
from rich.table import Table

from evals.evaluators import PASS_CHECKS
from evals.runner import Conversation

THRESHOLDS_FILE = Path(__file__).parent / "thresholds.toml"
TABLE = {"tool_f1": "tool F1", "arg_match": "args", "answer_pass_rate": "answer", "final_state_match": "final state"}
TABLE |= {"pass_rate": "passed"}  # the table's metrics, in order, and their headings
TURN_SCORES = ("tool_precision", "tool_recall", "tool_f1", "arg_match")  # a mean per turn; the rest are checks
TURN_CHECKS = ("trajectory_match", "answer_pass", "guardrail_match", "approval_match")


def _mean(values: list[Any]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _median(values: list[Any]) -> float | None:
    return statistics.median(values) if values else None


def case_json(model: str, case: ReportCase[Any, Any, Any] | ReportCaseFailure[Any, Any, Any]) -> dict[str, Any]:
    """One case as report.json holds it: what each turn did, its scores, the problems and the status."""
    if isinstance(case, ReportCase):
        output: Conversation = case.output
        results = {**case.assertions, **case.scores}
        errors = [f"evaluator {f.name}: {f.error_message}" for f in case.evaluator_failures]
    else:  # a lifecycle hook failed
        output, results, errors = Conversation(status="error", problem=case.error_message), {}, []
    turns = [asdict(t) | {"tools": [c["name"] for c in t.calls]} for t in output.turns]
    failed: list[tuple[int, str]] = []
    for name, result in results.items():  # `t2.tool_f1`: turn 2's tool F1; `final_state`: the case's
        turn, _, metric = name.rpartition(".")
        n = int(turn[1:]) if turn else len(turns) + 1
        if turn:
            turns[n - 1][metric] = bool(result.value) if metric in TURN_CHECKS else result.value
        if metric in PASS_CHECKS and result.value != 1:
            failed.append((n, f"turn {n}: {result.reason}" if turn else f"final: {result.reason}"))
    for turn_json in turns:
        turn_json.update({m: turn_json.get(m) for m in (*TURN_SCORES, *TURN_CHECKS)})
    status = output.status if output.status != "passed" else "error" if errors else "failed" if failed else "passed"
    tool_f1, final = _mean([t["tool_f1"] for t in turns]), results.get("final_state")
    return {
        "id": case.inputs.id,
        "model": model,
        "tags": case.inputs.tags,
        "source": case.inputs.source,
        "status": status,
        "final_state_match": None if final is None else bool(final.value),
        "tool_f1": 1.0 if tool_f1 is None else tool_f1,
        "arg_match": _mean([t["arg_match"] for t in turns]),
        **{m: all(t[m] is not False for t in turns) for m in ("answer_pass", "guardrail_match", "trajectory_match")},
        "latency_s": sum(t["latency_s"] for t in turns),
        "tokens": sum(t["tokens"] for t in turns),
        "problems": [p for p in [output.problem] if p] + [p for _, p in sorted(failed)] + errors,
        "error": output.problem if status == "error" else None,
        "final_todos": output.final_todos or [],
        "turns": turns,
    }


def summarize(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics over a group of cases (one model, or one model and tag); a turn metric is a mean over turns."""
    turns = [t for c in cases for t in c["turns"]]
    latencies, firsts = [t["latency_s"] for t in turns], [t for t in turns if t["first_call_s"] is not None]
    return {
        "cases": len(cases),
        **{status: sum(c["status"] == status for c in cases) for status in ("passed", "failed", "stale", "error")},
        "pass_rate": _mean([c["status"] == "passed" for c in cases]),
        **{m: _mean([t[m] for t in turns]) for m in (*TURN_SCORES, "trajectory_match", "guardrail_match")},
        "answer_pass_rate": _mean([t["answer_pass"] for t in turns]),
        "approval_match": _mean([t["approval_match"] for t in turns]),
        "final_state_match": _mean([c["final_state_match"] for c in cases]),
        "latency_p50_s": _median(latencies),
        "latency_max_s": max(latencies, default=None),
        "first_call_p50_s": _median([t["first_call_s"] for t in firsts]),
        "first_call_input_tokens_p50": _median([t["first_call_input_tokens"] for t in firsts]),
        "tokens": sum(t["tokens"] for t in turns),
    }


def build_report(reports: list[EvaluationReport[Any, Any, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    cases = [case_json(r.name, c) for r in reports for c in r.cases]
    cases += [case_json(r.name, c) for r in reports for c in r.failures]
    models = {r.name: [c for c in cases if c["model"] == r.name] for r in reports}
    tags = {m: sorted({t for c in cs for t in c["tags"]}) for m, cs in models.items()}
    return {
        "summary": {m: summarize(cs) for m, cs in models.items()},
        "by_tag": {
            m: {tag: summarize([c for c in cs if tag in c["tags"]]) for tag in tags[m]} for m, cs in models.items()
        },
        "models": meta or {},
        "cases": cases,
    }


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def breaches(summary: dict[str, dict[str, Any]], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Threshold breaches per model (`default` applies to a model without its own table); stale always fails."""
    problems = []
    for model, metrics in summary.items():
        for key, limit in thresholds.get(model, thresholds.get("default", {})).items():
            metric = key.removeprefix("max_")
            if (value := metrics.get(metric)) is not None and key.startswith("max_") and value > limit:
                problems.append(f"{model}: {metric} {value} > {limit}")
            elif value is not None and not key.startswith("max_") and value < limit:
                problems.append(f"{model}: {metric} {value:.3f} < threshold {limit}")
        if metrics.get("stale"):
            problems.append(f"{model}: {metrics['stale']} stale cassette(s): re-record with `make record`")
    return problems


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def _rows(report: dict[str, Any], model: str) -> list[list[str]]:
    """The table of one model: a row per tag, then `all`."""
    groups = [*report["by_tag"][model].items(), ("all", report["summary"][model])]
    return [[tag, str(m["cases"]), *(_fmt(m[k]) for k in TABLE)] for tag, m in groups]


def _counts(m: dict[str, Any]) -> str:
    return f"{m['passed']}/{m['cases']} passed · {m['failed']} failed · {m['stale']} stale · {m['error']} error · " + (
        f"p50 turn {_fmt(m['latency_p50_s'])} s · {m['tokens']} tokens"
    )


def print_table(report: dict[str, Any], console: Console) -> None:
    for model in report["by_tag"]:
        table = Table("tag", "cases", *TABLE.values(), title=f"evals · {model}", title_justify="left")
        for column in table.columns[1:]:
            column.justify = "right"
        for row in _rows(report, model):
            table.add_row(*row, style="bold" if row[0] == "all" else None)
        console.print(table, f"  {model}: {_counts(report['summary'][model])}")


def markdown(report: dict[str, Any], problems: list[str]) -> str:
    lines = ["# Eval report", ""]
    for model, metrics in report["summary"].items():
        info = report["models"].get(model, {})
        extra = ", ".join(f"{k} {info[k]}" for k in ("model", "quantization", "sha256") if info.get(k))
        lines += [f"## {model}" + (f" ({extra})" if extra else ""), "", _counts(metrics), ""]
        lines += ["| tag | cases | " + " | ".join(TABLE.values()) + " |", "|---|---:|" + "---:|" * len(TABLE)]
        rows = _rows(report, model)
        lines += ["| " + " | ".join(row) + " |" for row in [*rows[:-1], [f"**{v}**" for v in rows[-1]]]]
        if not_passed := [c for c in report["cases"] if c["model"] == model and c["status"] != "passed"]:
            lines += ["", "Not passed:", ""]
            lines += [f"- `{c['id']}` ({c['status']}): {'; '.join(c['problems'][:3])}" for c in not_passed]
        lines.append("")
    lines += ["## Thresholds", ""]
    lines += [f"- FAIL {p}" for p in problems] or ["- all thresholds met, no stale cassette"]
    return "\n".join(lines) + "\n"


def junit(report: dict[str, Any]) -> str:
    suites = ET.Element("testsuites", name="evals")
    for model in report["summary"]:
        cases = [c for c in report["cases"] if c["model"] == model]
        suite = ET.SubElement(suites, "testsuite", name=f"evals.{model}", tests=str(len(cases)))
        suite.set("failures", str(sum(c["status"] in ("failed", "stale") for c in cases)))
        suite.set("errors", str(sum(c["status"] == "error" for c in cases)))
        suite.set("time", f"{sum(c['latency_s'] for c in cases):.3f}")
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"evals.{model}.{c['source']}", name=c["id"])
            tc.set("time", f"{c['latency_s']:.3f}")
            message = "; ".join(c["problems"]) or c["status"]
            if c["status"] != "passed":
                kind = "error" if c["status"] == "error" else "failure"
                ET.SubElement(tc, kind, message=message[:500], type=c["status"]).text = message
    return ET.tostring(suites, encoding="unicode")


def write_reports(report: dict[str, Any], problems: list[str], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_text(junit(report), encoding="utf-8")
    (directory / "summary.md").write_text(markdown(report, problems), encoding="utf-8")
