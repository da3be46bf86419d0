"""Aggregates per model and tag, thresholds, and the four reports: terminal table, JSON, JUnit XML, Markdown."""

from __future__ import annotations

import json
import statistics
import tomllib
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.runner import CaseResult
from evals.scoring import mean

THRESHOLDS_FILE = Path(__file__).parent / "thresholds.toml"
# The metrics of the table, in order: (key, heading).
TABLE_METRICS = (
    ("tool_f1", "tool F1"),
    ("arg_match", "args"),
    ("answer_pass_rate", "answer"),
    ("final_state_match", "final state"),
    ("pass_rate", "passed"),
)


def _rate(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _median(values: list[float] | list[int]) -> float | None:
    return statistics.median(values) if values else None


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """Metrics over a group of case results (one model, or one model and tag)."""
    turns = [t for r in results for t in r.turns]
    latencies = [t.latency_s for t in turns]
    first_calls = [t.first_call for t in turns if t.first_call]
    return {
        "cases": len(results),
        "passed": sum(r.status == "passed" for r in results),
        "failed": sum(r.status == "failed" for r in results),
        "stale": sum(r.status == "stale" for r in results),
        "error": sum(r.status == "error" for r in results),
        "pass_rate": _rate([r.status == "passed" for r in results]),
        "tool_precision": mean([t.tool_precision for t in turns if t.tool_precision is not None]),
        "tool_recall": mean([t.tool_recall for t in turns if t.tool_recall is not None]),
        "tool_f1": mean([t.tool_f1 for t in turns if t.tool_f1 is not None]),
        "trajectory_match": _rate([t.trajectory_match for t in turns]),
        "arg_match": mean([t.arg_match for t in turns if t.arg_match is not None]),
        "answer_pass_rate": _rate([t.answer_pass for t in turns]),
        "guardrail_match": _rate([t.guardrail_match for t in turns]),
        "approval_match": _rate([t.approval_match for t in turns]),
        "final_state_match": _rate([r.final_state_match for r in results]),
        "latency_p50_s": statistics.median(latencies) if latencies else None,
        "latency_max_s": max(latencies) if latencies else None,
        "first_call_p50_s": _median([seconds for seconds, _tokens in first_calls]),
        "first_call_input_tokens_p50": _median([tokens for _seconds, tokens in first_calls]),
        "tokens": sum(t.tokens for t in turns),
    }


def by_model(results: list[CaseResult]) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        groups[r.model].append(r)
    return dict(groups)


def by_tag(results: list[CaseResult]) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        for tag in r.case.tags:
            groups[tag].append(r)
    return dict(sorted(groups.items()))


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def breaches(summary: dict[str, dict[str, Any]], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Threshold breaches per model (`default` applies to a model without its own table); stale always fails."""
    problems = []
    for model, metrics in summary.items():
        limits = thresholds.get(model, thresholds.get("default", {}))
        for metric, minimum in limits.items():
            if metric.startswith("max_"):
                value = metrics.get(metric.removeprefix("max_"))
                if value is not None and value > minimum:
                    problems.append(f"{model}: {metric.removeprefix('max_')} {value} > {minimum}")
                continue
            value = metrics.get(metric)
            if value is not None and value < minimum:
                problems.append(f"{model}: {metric} {value:.3f} < threshold {minimum}")
        if metrics.get("stale"):
            problems.append(f"{model}: {metrics['stale']} stale cassette(s): re-record with `make record`")
    return problems


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def case_json(r: CaseResult) -> dict[str, Any]:
    f1s = [t.tool_f1 for t in r.turns if t.tool_f1 is not None]
    answers = [t.answer_pass for t in r.turns if t.answer_pass is not None]
    args = [t.arg_match for t in r.turns if t.arg_match is not None]
    return {
        "id": r.case.id,
        "model": r.model,
        "tags": r.case.tags,
        "source": r.case.source,
        "status": r.status,
        "final_state_match": r.final_state_match,
        "tool_f1": mean(f1s) if f1s else 1.0,
        "arg_match": mean(args),
        "answer_pass": all(answers),
        "guardrail_match": all(t.guardrail_match for t in r.turns),
        "trajectory_match": all(t.trajectory_match is not False for t in r.turns),
        "latency_s": sum(t.latency_s for t in r.turns),
        "tokens": sum(t.tokens for t in r.turns),
        "problems": r.problems,
        "error": r.error,
        "final_todos": r.final_todos,
        "turns": [
            {
                "user": t.user,
                "response": t.response,
                "tools": t.tools,
                "calls": [{"name": c["name"], "arguments": c["arguments"]} for c in t.calls],
                "guardrail": t.guardrail,
                "tool_precision": t.tool_precision,
                "tool_recall": t.tool_recall,
                "tool_f1": t.tool_f1,
                "trajectory_match": t.trajectory_match,
                "arg_match": t.arg_match,
                "answer_pass": t.answer_pass,
                "guardrail_match": t.guardrail_match,
                "latency_s": round(t.latency_s, 4),
                "first_call_s": round(t.first_call[0], 4) if t.first_call else None,
                "first_call_input_tokens": t.first_call[1] if t.first_call else None,
                "tokens": t.tokens,
                "using_stub": t.using_stub,
            }
            for t in r.turns
        ],
    }


def build_report(results: list[CaseResult], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    models = by_model(results)
    return {
        "summary": {model: summarize(rs) for model, rs in models.items()},
        "by_tag": {model: {tag: summarize(g) for tag, g in by_tag(rs).items()} for model, rs in models.items()},
        "models": meta or {},
        "cases": [case_json(r) for r in results],
    }


def print_table(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    for model, tags in report["by_tag"].items():
        table = Table(title=f"evals · {model}", title_justify="left")
        table.add_column("tag")
        table.add_column("cases", justify="right")
        for _, heading in TABLE_METRICS:
            table.add_column(heading, justify="right")
        for tag, metrics in tags.items():
            table.add_row(tag, str(metrics["cases"]), *(_fmt(metrics[k]) for k, _ in TABLE_METRICS))
        total = report["summary"][model]
        table.add_row(
            "[bold]all[/bold]", str(total["cases"]), *(f"[bold]{_fmt(total[k])}[/bold]" for k, _ in TABLE_METRICS)
        )
        console.print(table)
        console.print(
            f"  {model}: {total['passed']} passed, {total['failed']} failed, {total['stale']} stale, "
            f"{total['error']} error · p50 turn {_fmt(total['latency_p50_s'])} s · {total['tokens']} tokens"
        )


def markdown(report: dict[str, Any], problems: list[str]) -> str:
    lines = ["# Eval report", ""]
    for model, metrics in report["summary"].items():
        info = report["models"].get(model, {})
        extra = ", ".join(f"{k} {info[k]}" for k in ("model", "quantization", "sha256") if info.get(k))
        lines += [f"## {model}" + (f" ({extra})" if extra else ""), ""]
        lines.append(
            f"{metrics['passed']}/{metrics['cases']} passed · {metrics['failed']} failed · {metrics['stale']} stale · "
            f"{metrics['error']} error · p50 turn {_fmt(metrics['latency_p50_s'])} s · {metrics['tokens']} tokens"
        )
        lines += ["", "| tag | cases | " + " | ".join(h for _, h in TABLE_METRICS) + " |"]
        lines.append("|---|---:|" + "---:|" * len(TABLE_METRICS))
        for tag, m in report["by_tag"][model].items():
            lines.append(f"| {tag} | {m['cases']} | " + " | ".join(_fmt(m[k]) for k, _ in TABLE_METRICS) + " |")
        lines.append(
            f"| **all** | {metrics['cases']} | "
            + " | ".join(f"**{_fmt(metrics[k])}**" for k, _ in TABLE_METRICS)
            + " |"
        )
        not_passed = [c for c in report["cases"] if c["model"] == model and c["status"] != "passed"]
        if not_passed:
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
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"evals.{model}",
            tests=str(len(cases)),
            failures=str(sum(c["status"] in ("failed", "stale") for c in cases)),
            errors=str(sum(c["status"] == "error" for c in cases)),
            time=f"{sum(c['latency_s'] for c in cases):.3f}",
        )
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"evals.{model}.{c['source']}", name=c["id"])
            tc.set("time", f"{c['latency_s']:.3f}")
            message = "; ".join(c["problems"]) or c["status"]
            if c["status"] in ("failed", "stale"):
                ET.SubElement(tc, "failure", message=message[:500], type=c["status"]).text = message
            elif c["status"] == "error":
                ET.SubElement(tc, "error", message=message[:500], type="error").text = message
    return ET.tostring(suites, encoding="unicode")


def write_reports(report: dict[str, Any], problems: list[str], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_text(junit(report), encoding="utf-8")
    (directory / "summary.md").write_text(markdown(report, problems), encoding="utf-8")
