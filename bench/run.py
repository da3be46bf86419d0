"""`make bench` / `python -m bench`: one bounded run that prints a table and writes JSON.

What runs (docs/performance.md explains each figure):
1. FastAPI hello world over HTTP: the HTTP ceiling.
2. For SQLite, then PostgreSQL (`BENCH_DATABASE_URL` or `TEST_DATABASE_URL`; a fresh database is
   created on that server and dropped afterwards; without either, PostgreSQL is skipped with a note):
   - in-process: the SDK floor (bare `Runner.run`, no memory) and the SQLAlchemySession turn, and
     `list_todos` with 10 and 100,000 todos;
   - over HTTP, each server started as `python -m service serve` starts it: our chat turn with the
     instant fake model and with the offline model, at concurrency 1 and 8, tracing on (OTLP/HTTP
     export to a local receiver); turn latency with 10 vs 10,000 stored items; on PostgreSQL also
     tracing off (and, time permitting, spans recorded without an exporter, and one worker instead of
     two); the SQLAlchemySession alternative.
3. The provider rows (`bench/provider.py`): an OpenAI-compatible fake provider over HTTP with 1 s a call,
   the SDK floor through it, and ours (one worker) at 10, 100 and 300 clients, plain and streamed; on
   PostgreSQL when a URL is set, else SQLite. `--only core|provider` (`BENCH_ONLY`) runs one part.
4. The ratios the targets are about, machine facts, peak RSS.

About four minutes on 2 quiet cores; optional extras are skipped, with a note, past `EXTRAS_UNTIL_S`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data, inprocess, provider
from bench.apps import bench_model
from bench.data import Dataset
from bench.load import LoadResult, Target, run_load
from bench.otlp_sink import OtlpSink
from bench.procs import REPO_ROOT, Server, cpu_seconds, peak_rss_mib, postgres_backends, start_server
from bench.report import header, machine, postgres_version, report, row

RESULTS_DIR = REPO_ROOT / "bench" / "results"
# The core measurements take about 4 minutes on 2 quiet cores; the extras about 25 s more.
EXTRAS_UNTIL_S = 240.0


@dataclass
class Bench:
    duration_s: float
    workers: int
    provider_window_s: float = 8.0
    records: list[dict[str, Any]] = field(default_factory=list)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-logs-")))
    started: float = field(default_factory=time.perf_counter)

    def add(self, **record: Any) -> dict[str, Any]:
        self.records.append(record)
        print(row(record), flush=True)
        return record

    def find(self, **keys: Any) -> dict[str, Any] | None:
        for record in self.records:
            if all(record.get(k) == v for k, v in keys.items()):
                return record
        return None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def in_time(self, what: str) -> bool:
        """Whether an optional measurement still fits in the run's time bound; if not, say so."""
        if self.elapsed() < EXTRAS_UNTIL_S:
            return True
        self.notes.append(f"skipped {what}: {self.elapsed():.0f} s had passed (the run stays under 5 minutes)")
        return False


# ------------------------------------------------------------------------------------------------
# Servers under load
# ------------------------------------------------------------------------------------------------


@contextmanager
def serving(
    bench: Bench, app: str, label: str, env: dict[str, str], ready_path: str, workers: int | None = None
) -> Iterator[Server]:
    workers = workers or bench.workers
    server = start_server(app, env=env, workers=workers, log_dir=bench.log_dir, ready_path=ready_path, name=label)
    try:
        yield server
    finally:
        rss = max((peak_rss_mib(pid) for pid in server.pids()), default=0.0)
        server.stop()
        bench.servers[label] = {"peak_rss_mib": round(rss, 1), "workers": workers}


def measure_http(
    bench: Bench,
    server: Server,
    targets: list[Target],
    *,
    concurrency: int,
    database: str | None = None,
    **labels: Any,
) -> dict[str, Any]:
    server_pids = server.pids()
    pg_pids = postgres_backends(database) if database else []
    cpu_before, pg_before = cpu_seconds(server_pids), cpu_seconds(pg_pids)
    result: LoadResult = run_load(server.base_url, targets, concurrency=concurrency, duration_s=bench.duration_s)
    cpu = cpu_seconds(server_pids) - cpu_before
    pg_pids_after = postgres_backends(database) if database else []
    pg_cpu = cpu_seconds(pg_pids_after) - pg_before if pg_pids_after else 0.0
    done = max(result.requests, 1)
    if result.errors:
        bench.notes.append(f"{labels.get('name')} {labels}: {result.errors} of {result.requests} requests failed")
    if result.errors > result.requests / 2:
        raise RuntimeError(f"{server.name}: most requests failed; see {server.log_path}")
    return bench.add(
        kind="http",
        concurrency=concurrency,
        per_s=round(result.rps, 1),
        p50_ms=round(result.p50_ms, 2),
        p99_ms=round(result.p99_ms, 2),
        mean_ms=round(result.mean_ms, 2),
        requests=result.requests,
        errors=result.errors,
        server_cpu_ms=round(cpu * 1000 / done, 2),
        postgres_cpu_ms=round(pg_cpu * 1000 / done, 2) if database else None,
        **labels,
    )


def warm_up(server: Server, targets: list[Target]) -> int:
    """A second of load first: imports, caches and pools settle before anything is timed."""
    return run_load(server.base_url, targets, concurrency=8, duration_s=1).requests


# ------------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------------


def hello_world(bench: Bench) -> None:
    targets = [Target("GET", "/")]
    with serving(bench, "hello", "hello", {}, "/") as server:
        warm_up(server, targets)
        for concurrency in (1, 8):
            measure_http(bench, server, targets, concurrency=concurrency, name="hello world", db="-", model="-")


def service_env(dataset: Dataset, model: str, tracing: str, sink: OtlpSink) -> dict[str, str]:
    env = {
        "ENV": "dev",
        "DATABASE_URL": dataset.url,
        "AUTH_JWT_SECRET": data.SECRET,
        "MODEL_PROVIDER": "offline",
        "RATE_LIMIT_CHAT_PER_MINUTE": "0",
        "BENCH_MODEL": model,
    }
    if tracing == "export":  # the real set-up, exporting by OTLP/HTTP to the local receiver
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
    elif tracing == "off":
        env["OTEL_SDK_DISABLED"] = "true"
    # "no exporter": the service's default without an endpoint: spans are recorded, then dropped.
    return env


def ours(
    bench: Bench,
    dataset: Dataset,
    sink: OtlpSink,
    *,
    model: str,
    tracing: str,
    history: bool = False,
    workers: int | None = None,
    concurrencies: tuple[int, ...] = (1, 8),
) -> None:
    workers = workers or bench.workers
    label = f"ours {dataset.label} {model} tracing={tracing} workers={workers}"
    postgres_db = _database_name(dataset.url)
    env = service_env(dataset, model, tracing, sink)
    spans_before = sink.snapshot().spans
    served = 0
    with serving(bench, "ours", label, env, "/readyz", workers) as server:
        served += warm_up(server, dataset.chat)
        labels: dict[str, Any] = {"name": "our chat turn", "db": dataset.label, "model": model, "tracing": tracing}
        if workers != bench.workers:
            labels["workers"] = workers
        for concurrency in concurrencies:
            served += measure_http(
                bench, server, dataset.chat, concurrency=concurrency, database=postgres_db, **labels
            )["requests"]
        if history:
            for name, targets in (
                ("history 10 items", dataset.short_history),
                ("history 10k items", dataset.long_history),
            ):
                labels = {"name": name, "db": dataset.label, "model": model, "tracing": tracing}
                served += measure_http(bench, server, targets, concurrency=1, database=postgres_db, **labels)[
                    "requests"
                ]
    if tracing == "export":
        time.sleep(0.5)  # the exporter flushes at shutdown; its last request may still be in flight
        spans = sink.snapshot().spans - spans_before
        bench.servers[label]["spans_exported_per_turn"] = round(spans / max(served, 1), 1)


def alternative(bench: Bench, dataset: Dataset, *, model: str, concurrencies: tuple[int, ...]) -> None:
    label = f"alternative {dataset.label} {model}"
    env = {"DATABASE_URL": dataset.url, "AUTH_JWT_SECRET": data.SECRET, "BENCH_MODEL": model}
    with serving(bench, "alternative", label, env, "/docs") as server:
        warm_up(server, dataset.alternative_chat)
        for concurrency in concurrencies:
            measure_http(
                bench,
                server,
                dataset.alternative_chat,
                concurrency=concurrency,
                database=_database_name(dataset.url),
                name="SQLAlchemySession endpoint",
                db=dataset.label,
                model=model,
                tracing="none",
            )


def in_process(bench: Bench, dataset: Dataset, *, full: bool) -> None:
    duration = max(1.0, bench.duration_s * 0.6)
    for model_name in ("instant", "offline"):
        os.environ["BENCH_MODEL"] = model_name
        for concurrency in (1, 8) if full or model_name == "instant" else (8,):
            stats = asyncio.run(
                inprocess.floor(
                    dataset.url, dataset.chat_user, bench_model(), concurrency=concurrency, duration_s=duration
                )
            )
            bench.add(kind="inprocess", name="SDK floor", db=dataset.label, model=model_name, **_stats(stats))
    os.environ["BENCH_MODEL"] = "instant"
    users = [dataset.chat_user]
    for concurrency in (1, 8):
        stats = asyncio.run(
            inprocess.sqlalchemy_session_turns(
                dataset.url, users, bench_model(), concurrency=concurrency, duration_s=duration
            )
        )
        bench.add(kind="inprocess", name="SQLAlchemySession turn", db=dataset.label, model="instant", **_stats(stats))
    list_duration = max(1.0, bench.duration_s * 0.4)
    for name, user_id, arguments in (
        ("list_todos 10 todos", dataset.few_todos_user, {"limit": 10}),
        ("list_todos 100k todos", dataset.many_todos_user, {"limit": 10}),
        ("list_todos 100k todos, page of 50", dataset.many_todos_user, {}),
    ):
        stats = asyncio.run(inprocess.list_todos_calls(dataset.url, user_id, arguments, duration_s=list_duration))
        bench.add(kind="inprocess", name=name, db=dataset.label, model="-", **_stats(stats))


def sdk_only(bench: Bench) -> None:
    os.environ["BENCH_MODEL"] = "instant"
    for concurrency in (1, 8):
        stats = asyncio.run(
            inprocess.floor(
                None,
                uuid.uuid4(),
                bench_model(),
                concurrency=concurrency,
                duration_s=max(1.0, bench.duration_s * 0.6),
                stub=True,
            )
        )
        bench.add(kind="inprocess", name="SDK alone (stub tools)", db="-", model="instant", **_stats(stats))


def _stats(stats: inprocess.RunStats) -> dict[str, Any]:
    return {
        "concurrency": stats.concurrency,
        "per_s": round(stats.per_s, 1),
        "p50_ms": round(stats.p50_ms, 2),
        "p99_ms": round(stats.p99_ms, 2),
        "mean_ms": round(stats.mean_ms, 3),
        "requests": stats.count,
        "server_cpu_ms": round(stats.cpu_ms, 2),
    }


def _database_name(url: str) -> str | None:
    return url.rsplit("/", 1)[1] if url.startswith("postgresql") else None


# ------------------------------------------------------------------------------------------------
# Ratios, machine, report
# ------------------------------------------------------------------------------------------------


def ratios(bench: Bench) -> dict[str, Any]:
    """The ratios the targets are about (docs/performance.md), plus tracing's cost and worker scaling."""
    found: dict[str, Any] = {}

    def ratio(key: str, top: dict[str, Any] | None, bottom: dict[str, Any] | None, field_: str) -> None:
        if top and bottom and bottom.get(field_):
            found[key] = round(top[field_] / bottom[field_], 3)

    def turn(db: str, model: str, tracing: str, concurrency: int, workers: int | None = None) -> dict[str, Any] | None:
        return bench.find(
            name="our chat turn", db=db, model=model, tracing=tracing, concurrency=concurrency, workers=workers
        )

    for db in ("sqlite", "postgres"):
        for model in ("instant", "offline"):
            ours_c8 = turn(db, model, "export", 8)
            floor_c8 = bench.find(name="SDK floor", db=db, model=model, concurrency=8)
            ratio(f"{db} {model}: ours / SDK floor (turns/s, c=8)", ours_c8, floor_c8, "per_s")
            ratio(f"{db} {model}: ours / SDK floor (CPU per turn, c=8)", ours_c8, floor_c8, "server_cpu_ms")
            ratio(
                f"{db} {model}: ours / SQLAlchemySession endpoint (turns/s, c=8)",
                ours_c8,
                bench.find(name="SQLAlchemySession endpoint", db=db, model=model, concurrency=8),
                "per_s",
            )
        for label, top, bottom in (
            ("history 10k / 10 items", "history 10k items", "history 10 items"),
            ("list_todos 100k / 10 todos", "list_todos 100k todos", "list_todos 10 todos"),
            ("list_todos 100k (page of 50) / 10 todos", "list_todos 100k todos, page of 50", "list_todos 10 todos"),
        ):
            ratio(f"{db}: {label} (p50 latency)", bench.find(name=top, db=db), bench.find(name=bottom, db=db), "p50_ms")
        ratio(
            f"{db} instant: ours / hello world (requests/s, c=8)",
            turn(db, "instant", "export", 8),
            bench.find(name="hello world", concurrency=8),
            "per_s",
        )
    for concurrency in (1, 8):
        on, off = turn("postgres", "instant", "export", concurrency), turn("postgres", "instant", "off", concurrency)
        recorded = turn("postgres", "instant", "none", concurrency)
        ratio(f"postgres instant: tracing on / off (turns/s, c={concurrency})", on, off, "per_s")
        for name, top in (("tracing on (export)", on), ("spans recorded, no exporter", recorded)):
            if top and off:
                found[f"postgres instant: {name} vs off, server CPU ms per turn (c={concurrency})"] = round(
                    top["server_cpu_ms"] - off["server_cpu_ms"], 2
                )
        if on and off:
            found[f"postgres instant: tracing on vs off, p50 latency ms (c={concurrency})"] = round(
                on["p50_ms"] - off["p50_ms"], 2
            )
    one_worker = next(
        (
            r
            for r in bench.records
            if r.get("name") == "our chat turn" and r.get("workers") == 1 and r["db"] == "postgres"
        ),
        None,
    )
    if one_worker:
        ratio(
            f"postgres instant: {bench.workers} workers / 1 worker (turns/s, c=8)",
            turn("postgres", "instant", "export", 8),
            one_worker,
            "per_s",
        )
    return found


def scratch_database(base_url: str, name: str) -> tuple[str, bool]:
    """A fresh database for the run, and whether it is to be dropped afterwards.

    `BENCH_IN_PLACE=1` empties the configured database itself instead of creating one next to it.
    """
    if os.environ.get("BENCH_IN_PLACE") == "1":
        return data.reset_postgres_database(base_url), False
    return data.create_postgres_database(base_url, name), True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per HTTP measurement")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server (default: 2, one a core)")
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/bench-TIMESTAMP.json)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even if a URL is set")
    parser.add_argument(
        "--only",
        choices=("all", "core", "provider"),
        default=os.environ.get("BENCH_ONLY", "all"),
        help="core: the instant/offline rows; provider: the HTTP-provider rows (default: all; env BENCH_ONLY)",
    )
    parser.add_argument("--provider-window", type=float, default=8.0, help="seconds counted per provider row")
    args = parser.parse_args(argv)

    bench = Bench(duration_s=args.duration, workers=args.workers, provider_window_s=args.provider_window)
    core = args.only in ("all", "core")
    info = machine()
    print(
        f"machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB, Python {info['python']}, "
        f"openai-agents {info['packages']['openai-agents']}, load average {info['load_average_at_start']}"
    )
    print(
        f"load: {info['load_generator']}; {args.duration:g} s per HTTP measurement; {args.workers} uvicorn "
        f"worker(s) per server; tracing on = OTLP/HTTP export to a local receiver\n"
    )
    print(header())

    pg_base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    pg_name = f"todo_bench_{os.getpid()}"
    pg_created = False
    sqlite_dir = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    try:
        with OtlpSink() as sink:
            if core:
                hello_world(bench)
                sdk_only(bench)
                sqlite = data.prepare(f"sqlite+aiosqlite:///{sqlite_dir / 'bench.db'}", "sqlite")
                in_process(bench, sqlite, full=False)
                ours(bench, sqlite, sink, model="instant", tracing="export")
                ours(bench, sqlite, sink, model="offline", tracing="export", history=True)
                alternative(bench, sqlite, model="instant", concurrencies=(8,))

            if args.no_postgres or not pg_base:
                bench.notes.append(
                    "PostgreSQL skipped: set TEST_DATABASE_URL (or BENCH_DATABASE_URL) to a server where the "
                    "benchmark may create a database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
                )
                if args.only in ("all", "provider"):  # users run it on PostgreSQL; SQLite is the fallback here
                    provider_db = f"sqlite+aiosqlite:///{sqlite_dir / 'provider.db'}"
                    data.upgrade(provider_db)
                    provider.provider_rows(bench, provider_db, sink)
            elif not core:
                pg_url, pg_created = scratch_database(pg_base, pg_name)
                info["postgres"] = postgres_version(pg_url)
                data.upgrade(pg_url)
                provider.provider_rows(bench, pg_url, sink)
            else:
                pg_url, pg_created = scratch_database(pg_base, pg_name)
                info["postgres"] = postgres_version(pg_url)
                postgres = data.prepare(pg_url, "postgres")
                in_process(bench, postgres, full=True)
                ours(bench, postgres, sink, model="instant", tracing="export")
                ours(bench, postgres, sink, model="offline", tracing="export", history=True)
                ours(bench, postgres, sink, model="instant", tracing="off")
                alternative(bench, postgres, model="instant", concurrencies=(1, 8))
                # Extras, skipped (with a note) if a slow machine already used up most of the time bound.
                if bench.in_time("tracing recorded without an exporter"):
                    ours(bench, postgres, sink, model="instant", tracing="none")
                if bench.workers != 1 and bench.in_time("one worker"):
                    ours(bench, postgres, sink, model="instant", tracing="export", workers=1, concurrencies=(8,))
                if bench.in_time("the SQLAlchemySession endpoint with the offline model"):
                    alternative(bench, postgres, model="offline", concurrencies=(8,))
                if args.only == "all":
                    provider.provider_rows(bench, pg_url, sink)
    finally:
        if pg_created and pg_base:
            data.drop_postgres_database(pg_base, pg_name)
        elif pg_base and os.environ.get("BENCH_IN_PLACE") == "1" and not args.no_postgres:
            # Emptied again: 100,000 seeded todos make the test suite's per-test cleanup crawl on this database.
            data.reset_postgres_database(pg_base)
        shutil.rmtree(sqlite_dir, ignore_errors=True)

    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = args.output or RESULTS_DIR / f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "settings": {
            "duration_s": args.duration,
            "workers": args.workers,
            "tracing_on": "OTLP/HTTP export (the service's own set-up) to a local receiver in the benchmark process",
            "chat_message": data.CHAT_MESSAGE,
        },
        "records": bench.records,
        "ratios": {**ratios(bench), **provider.ratios(bench)},
        "servers": bench.servers,
        "benchmark_process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "notes": bench.notes,
        "took_s": round(bench.elapsed(), 1),
        "json": str(output),
    }
    output.write_text(json.dumps(result, indent=2) + "\n")
    report(bench, result)
    shutil.rmtree(bench.log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
