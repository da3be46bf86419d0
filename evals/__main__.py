"""`python -m evals run|record` — see evals/README.md.

    python -m evals run [--model all|offline|replay|NAME] [--cases PATH] [--report DIR]
    python -m evals record --model NAME [--cases PATH] [--name FOLDER] [--meta-file JSON]

`run --model NAME` runs a live provider (OPENAI_API_KEY / OPENAI_BASE_URL); `record` does the same and
writes one cassette per case under evals/cassettes/FOLDER/. Exit status: 0 all thresholds met, 1 a
threshold breached, a cassette stale, or a recording failed, 2 bad usage or cases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.cases import CASES_DIR, CaseError, CaseSpec, load_cases
from evals.cassettes import CASSETTES_DIR, read_meta, recorded_models, write_meta
from evals.clock import PINNED_NOW
from evals.report import THRESHOLDS_FILE, breaches, build_report, load_thresholds, markdown, print_table, write_reports
from evals.runner import Target, Workspace, run_cases
from service.agent.spec import load_spec

REPORT_DIR = Path("reports") / "evals"


def _live_target(model: str, mode: str, provider: str, folder: Path | None) -> Target:
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    provider = ("openai-compatible" if base_url else "openai") if provider == "auto" else provider
    api_key = os.environ.get("OPENAI_API_KEY") or ("local" if base_url else None)
    if provider == "openai" and not api_key:
        raise SystemExit("OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server) must be set")
    name = folder.name if folder else model
    return Target(name, mode, provider, model, base_url, api_key, folder)  # type: ignore[arg-type]


def replay_target(folder: Path) -> Target:
    provider = read_meta(folder).get("provider", "openai-compatible")
    # The address is never reached: vcrpy answers from the cassette (record mode none), matching on path.
    base_url = None if provider == "openai" else "http://127.0.0.1:9/v1"
    return Target(folder.name, "replay", provider, read_meta(folder)["model"], base_url, "sk-replay-no-network", folder)


def _evaluate(
    cases: list[CaseSpec], targets: list[Target], meta: dict[str, Any], args: Any
) -> tuple[int, dict[str, Any]]:
    """Runs every target, then writes and prints the reports; exit status 1 when a threshold is breached."""
    console = Console()
    with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
        workspace = Workspace(Path(tmp))
        reports = [asyncio.run(run_cases(cases, t, workspace, progress=console.is_terminal)) for t in targets]
    report = build_report(reports, meta) | {
        "run": {"pinned_now": PINNED_NOW.isoformat(), "spec_hash": load_spec().content_hash}
    }
    problems = breaches(report["summary"], load_thresholds(args.thresholds))
    print_table(report, console)
    write_reports(report, problems, args.report)
    for p in problems:
        console.print(f"[red]FAIL[/red] {p}")
    console.print(f"reports: {args.report}/report.json, junit.xml, summary.md")
    if args.markdown:
        print(markdown(report, problems))
    return (1 if problems else 0), report


def cmd_run(args: argparse.Namespace) -> int:
    cases, targets = load_cases(args.cases), [Target("offline", "offline")] if args.model in ("all", "offline") else []
    meta: dict[str, Any] = {"offline": {"model": "offline", "note": "the deterministic embedded baseline"}}
    if args.model in ("all", "replay"):
        for folder in recorded_models(args.cassettes):
            targets.append(replay_target(folder))
            meta[folder.name] = read_meta(folder)
    if args.model not in ("all", "offline", "replay"):
        targets.append(_live_target(args.model, "live", args.provider, None))
    if not targets:
        print(f"no recorded model under {args.cassettes}")
    for target in targets:
        if unrecorded := [case.id for case in cases if not target.has_cassette(case)]:
            print(
                f"{target.name}: {len(unrecorded)} cases have no cassette and are not scored "
                f"(record them with make record / make record-local): {', '.join(unrecorded)}"
            )
    return _evaluate(cases, targets, meta, args)[0]


def cmd_record(args: argparse.Namespace) -> int:
    cases = load_cases(args.cases)
    folder = args.cassettes / (args.name or re.sub(r"[^A-Za-z0-9._-]+", "-", args.model).strip("-").lower())
    target = _live_target(args.model, "record", args.provider, folder)
    meta = {"model": args.model, "provider": target.provider, "recorded_at": datetime.now(UTC).date().isoformat()}
    # A subset (--cases) re-records those cassettes among the folder's others: the count is the folder's.
    recorded = {path.stem for path in folder.glob("*.yaml")} | {case.id for case in cases}
    meta |= {"spec_hash": load_spec().content_hash, "cases": len(recorded)}
    write_meta(folder, meta | (json.loads(Path(args.meta_file).read_text(encoding="utf-8")) if args.meta_file else {}))
    code, report = _evaluate(cases, [target], {folder.name: read_meta(folder)}, args)
    errors = [c for c in report["cases"] if c["status"] == "error"]
    for c in errors:
        print(f"error {c['id']}: {'; '.join(c['problems'])}")
    return 1 if errors else code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "record"):
        p = sub.add_parser(name)
        p.add_argument("--model", default="all" if name == "run" else None, required=name == "record")
        p.add_argument("--cases", type=Path, default=CASES_DIR)
        p.add_argument("--report", type=Path, default=REPORT_DIR)
        p.add_argument("--cassettes", type=Path, default=CASSETTES_DIR, help="folder of recorded models")
        p.add_argument("--thresholds", type=Path, default=THRESHOLDS_FILE)
        p.add_argument("--provider", choices=("auto", "openai", "openai-compatible"), default="auto")
        p.add_argument("--markdown", action="store_true", help="also print the Markdown summary")
        if name == "record":
            p.add_argument("--name", help="cassette folder name (default: from --model)")
            p.add_argument("--meta-file", help="JSON merged into the folder's model.json (e.g. quantization, sha256)")
    args = parser.parse_args(argv)
    try:
        return cmd_run(args) if args.command == "run" else cmd_record(args)
    except (CaseError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
