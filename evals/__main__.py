"""`python -m evals run|record` — see evals/README.md.

    python -m evals run [--model all|offline|replay|NAME] [--cases PATH] [--report DIR]
    python -m evals record --model NAME [--cases PATH] [--name FOLDER] [--meta-file JSON]

`run --model NAME` runs a live provider (OPENAI_API_KEY / OPENAI_BASE_URL); `record` does the same and
writes one cassette per case under evals/cassettes/FOLDER/. Exit status: 0 all thresholds met, 1 a
threshold breached, a cassette stale, or a recording failed, 2 bad usage or cases.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evals.cases import CASES_DIR, Case, CaseError, load_cases
from evals.cassettes import CASSETTES_DIR, read_meta, recorded_models, write_meta
from evals.report import THRESHOLDS_FILE, breaches, build_report, load_thresholds, markdown, print_table, write_reports
from evals.runner import PINNED_NOW, CaseResult, Mode, ProviderKind, Target, Workspace, has_cassette, run_sync
from service.agent.spec import load_spec

REPORT_DIR = Path("reports") / "evals"


def _live_target(model: str, mode: Mode, provider: str, folder: Path | None) -> Target:
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    if provider == "auto":
        provider = "openai-compatible" if base_url else "openai"
    api_key = os.environ.get("OPENAI_API_KEY") or ("local" if base_url else None)
    if provider == "openai" and not api_key:
        raise SystemExit("OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server) must be set")
    return Target(
        name=folder.name if folder else model,
        mode=mode,
        provider=cast(ProviderKind, provider),  # one of argparse's choices, "auto" resolved above
        model=model,
        base_url=base_url,
        api_key=api_key,
        cassette_dir=folder,
    )


def _replay_target(folder: Path) -> Target:
    meta = read_meta(folder)
    provider = meta.get("provider", "openai-compatible")
    return Target(
        name=folder.name,
        mode="replay",
        provider=cast(ProviderKind, provider),  # as the recording wrote it
        model=meta["model"],
        # Never reached: vcrpy answers from the cassette (record mode none) and matches on path, not host.
        base_url=None if provider == "openai" else "http://127.0.0.1:9/v1",
        api_key="sk-replay-no-network",
        cassette_dir=folder,
    )


def _run(cases: list[Case], targets: list[Target], console: Console) -> list[CaseResult]:
    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
        workspace = Workspace(Path(tmp))
        for target in targets:
            with Progress(
                TextColumn(f"[bold]{target.name}[/bold] ({target.mode})"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=target.mode in ("offline", "replay"),
                disable=not console.is_terminal,
            ) as progress:
                task = progress.add_task(target.name, total=len(cases))
                results += run_sync(cases, target, workspace, lambda t=task: progress.advance(t))
    return results


def _finish(results: list[CaseResult], meta: dict[str, Any], args: argparse.Namespace, console: Console) -> int:
    report = build_report(results, meta)
    report["run"] = {"pinned_now": PINNED_NOW.isoformat(), "spec_hash": load_spec().content_hash}
    problems = breaches(report["summary"], load_thresholds(args.thresholds))
    print_table(report, console)
    write_reports(report, problems, args.report)
    for p in problems:
        console.print(f"[red]FAIL[/red] {p}")
    console.print(f"reports: {args.report}/report.json, junit.xml, summary.md")
    if args.markdown:
        print(markdown(report, problems))
    return 1 if problems else 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    cases = load_cases(args.cases)
    targets: list[Target] = []
    meta: dict[str, Any] = {"offline": {"model": "offline", "note": "the deterministic embedded baseline"}}
    if args.model in ("all", "replay"):
        for folder in recorded_models(args.cassettes):
            targets.append(_replay_target(folder))
            meta[folder.name] = read_meta(folder)
        if args.model == "replay" and not targets:
            console.print(f"[yellow]no recorded model under {args.cassettes}[/yellow]")
    if args.model in ("all", "offline"):
        targets.insert(0, Target(name="offline", mode="offline"))
    if args.model not in ("all", "offline", "replay"):
        targets.append(_live_target(args.model, "live", args.provider, None))
    for target in targets:
        if unrecorded := [case.id for case in cases if not has_cassette(case, target)]:
            console.print(
                f"[yellow]{target.name}: {len(unrecorded)} cases have no cassette and are not scored "
                f"(record them with make record / make record-local): {', '.join(unrecorded)}[/yellow]"
            )
    return _finish(_run(cases, targets, console), meta, args, console)


def _folder_name(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-").lower()


def cmd_record(args: argparse.Namespace, console: Console) -> int:
    cases = load_cases(args.cases)
    folder = args.cassettes / (args.name or _folder_name(args.model))
    target = _live_target(args.model, "record", args.provider, folder)
    meta: dict[str, Any] = {
        "model": args.model,
        "provider": target.provider,
        "recorded_at": datetime.now(UTC).date().isoformat(),
        "spec_hash": load_spec().content_hash,
        "cases": len(cases),
    }
    if args.meta_file:
        meta.update(json.loads(Path(args.meta_file).read_text(encoding="utf-8")))
    write_meta(folder, meta)
    results = _run(cases, [target], console)
    errors = [r for r in results if r.status == "error"]
    for r in errors:
        console.print(f"[red]error[/red] {r.case.id}: {'; '.join(r.problems)}")
    code = _finish(results, {folder.name: meta}, args, console)
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
    console = Console()
    try:
        return cmd_run(args, console) if args.command == "run" else cmd_record(args, console)
    except (CaseError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        return 2


if __name__ == "__main__":
    sys.exit(main())
